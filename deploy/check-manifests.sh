#!/usr/bin/env bash
# Checks deploy/kubernetes against the Kubernetes API's JSON schemas, offline: no cluster needed.
# Uses the npm package kubernetes-models (schemas of Kubernetes' OpenAPI, validated with ajv),
# installed into a temporary directory; renders the kustomization with kubectl when there is one.
# Reports types, required fields and enums per document; it does not flag unknown fields.
#
#   deploy/check-manifests.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
command -v node >/dev/null 2>&1 || { echo "check-manifests: node not found" >&2; exit 2; }
command -v npm >/dev/null 2>&1 || { echo "check-manifests: npm not found" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if command -v kubectl >/dev/null 2>&1; then
  kubectl kustomize "$here/kubernetes" >"$work/manifests.yaml"
  echo "check-manifests: rendered deploy/kubernetes with kubectl kustomize"
else
  for f in "$here"/kubernetes/*.yaml; do
    [[ "$(basename "$f")" == kustomization.yaml ]] && continue
    cat "$f"; echo "---"
  done >"$work/manifests.yaml"
  echo "check-manifests: no kubectl: checking the files as they are, without kustomize"
fi

(cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund kubernetes-models@5.1.0 yaml@2 >/dev/null)

cat >"$work/check.mjs" <<'JS'
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import * as core from "kubernetes-models/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as rbac from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as policy from "kubernetes-models/policy/v1";

const models = {
  "v1": core, "apps/v1": apps, "rbac.authorization.k8s.io/v1": rbac, "policy/v1": policy,
};
let failed = 0;
let checked = 0;
for (const doc of parseAllDocuments(readFileSync(process.argv[2], "utf8"))) {
  if (doc.errors.length) { console.log("YAML error: " + doc.errors.join("; ")); failed++; continue; }
  const o = doc.toJS();
  if (o == null) continue;
  const where = `${o.kind} ${o.metadata?.name}`;
  const Model = models[o.apiVersion]?.[o.kind];
  if (!Model) { console.log(`${where}: no schema for ${o.apiVersion} ${o.kind}`); failed++; continue; }
  try {
    new Model(o).validate();
    console.log(`${where}: valid (${o.apiVersion})`);
    checked++;
  } catch (e) {
    console.log(`${where}: INVALID: ${e.message}`);
    failed++;
  }
}
console.log(`${checked} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
JS
(cd "$work" && node check.mjs "$work/manifests.yaml")
