package dev.keel.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What {@code deploy/} promises an operator, checked without Docker or Kubernetes (neither runs
 * where the build runs): every YAML file parses, the Kubernetes objects fit together (labels,
 * probes, the service account and its role, secrets referenced rather than written down), the
 * compose file seeds three nodes with each other, the Dockerfile runs as a non-root user with a
 * health check, the systemd unit stops gracefully, and every KEEL_* variable used anywhere in
 * deploy/ is one the node reads.
 */
class DeployFilesTest {

  private static final Path DEPLOY = repositoryRoot().resolve("deploy");
  private static final Pattern KEEL_VARIABLE = Pattern.compile("\\bKEEL_[A-Z0-9_]+\\b");

  @Test
  void everyYamlFileParses() throws IOException {
    List<Path> files = files(DEPLOY, ".yaml", ".yml");
    assertThat(files).as("YAML files under deploy/").isNotEmpty();
    for (Path f : files) {
      List<Object> docs = loadAll(f);
      assertThat(docs).as(f + " holds at least one document").isNotEmpty();
      for (Object doc : docs)
        assertThat(doc).as("each document of " + f + " is a mapping").isInstanceOf(Map.class);
    }
  }

  @Test
  void kustomizationListsEveryManifest() throws IOException {
    Map<String, Object> kustomization =
        map(loadAll(DEPLOY.resolve("kubernetes/kustomization.yaml")).get(0));
    Set<String> listed = new TreeSet<>(strings(kustomization.get("resources")));
    Set<String> present = new TreeSet<>();
    for (Path f : files(DEPLOY.resolve("kubernetes"), ".yaml")) {
      if (!f.getFileName().toString().equals("kustomization.yaml"))
        present.add(f.getFileName().toString());
    }
    assertThat(listed).isEqualTo(present);
  }

  @Test
  void kubernetesObjectsFitTogether() throws IOException {
    Map<String, Map<String, Object>> byKindAndName = new HashMap<>();
    for (Path f : files(DEPLOY.resolve("kubernetes"), ".yaml")) {
      if (f.getFileName().toString().equals("kustomization.yaml")) continue;
      for (Object doc : loadAll(f)) {
        Map<String, Object> o = map(doc);
        byKindAndName.put(o.get("kind") + "/" + map(o.get("metadata")).get("name"), o);
      }
    }
    Map<String, Object> deployment = byKindAndName.get("Deployment/keel");
    assertThat(deployment).as("Deployment keel").isNotNull();
    Map<String, Object> spec = map(deployment.get("spec"));
    Map<String, Object> podLabels =
        map(map(map(spec.get("template")).get("metadata")).get("labels"));
    assertThat(map(map(spec.get("selector")).get("matchLabels")))
        .as("the Deployment selects its own pods")
        .isEqualTo(podLabels);
    assertThat((Integer) spec.get("replicas"))
        .as("replicas: a majority survives one loss")
        .isGreaterThanOrEqualTo(3);

    Map<String, Object> pod = map(map(spec.get("template")).get("spec"));
    assertThat((Integer) pod.get("terminationGracePeriodSeconds"))
        .as("time for the SIGTERM hand-off")
        .isGreaterThanOrEqualTo(60);
    assertThat(map(pod.get("securityContext")).get("runAsNonRoot")).isEqualTo(true);
    Map<String, Object> container = map(list(pod.get("containers")).get(0));
    assertThat(path(container, "readinessProbe", "httpGet", "path")).isEqualTo("/ready");
    assertThat(path(container, "livenessProbe", "httpGet", "path")).isEqualTo("/health");
    Map<String, Integer> ports = new HashMap<>();
    for (Object p : list(container.get("ports")))
      ports.put((String) map(p).get("name"), (Integer) map(p).get("containerPort"));
    assertThat(ports)
        .containsEntry("http", 8080)
        .containsKey("management")
        .containsEntry("remoting", 25520);

    // Secrets are referenced, never written into the manifests.
    Map<String, Map<String, Object>> env = new HashMap<>();
    for (Object e : list(container.get("env"))) env.put((String) map(e).get("name"), map(e));
    for (String secret : List.of("KEEL_ADMIN_TOKEN", "KEEL_DATABASE_PASSWORD")) {
      assertThat(env.get(secret)).as(secret).isNotNull().doesNotContainKey("value");
      assertThat(path(env.get(secret), "valueFrom", "secretKeyRef", "name"))
          .as(secret + " from a Secret")
          .isEqualTo("keel-secrets");
    }
    assertThat(path(env.get("KEEL_HOST"), "valueFrom", "fieldRef", "fieldPath"))
        .as("KEEL_HOST is the pod IP")
        .isEqualTo("status.podIP");
    assertThat(byKindAndName.keySet())
        .as("no Secret object with values in deploy/")
        .noneMatch(k -> k.startsWith("Secret/"));

    // Discovery finds exactly these pods, on the port named management, with the account's rights.
    Map<String, Object> config = map(byKindAndName.get("ConfigMap/keel-config").get("data"));
    assertThat(config.get("KEEL_DISCOVERY")).isEqualTo("kubernetes");
    assertThat(config.get("KEEL_DATABASE_URL").toString()).startsWith("jdbc:postgresql://");
    assertThat(config).doesNotContainKeys("KEEL_ADMIN_TOKEN", "KEEL_DATABASE_PASSWORD");
    assertThat(Integer.parseInt(config.get("KEEL_MANAGEMENT_PORT").toString()))
        .isEqualTo(ports.get("management"));
    String[] selector = config.get("KEEL_DISCOVERY_POD_LABEL_SELECTOR").toString().split("=");
    assertThat(podLabels)
        .as("pod labels match the discovery selector")
        .containsEntry(selector[0], selector[1]);
    assertThat(pod.get("serviceAccountName")).isEqualTo("keel");
    assertThat(byKindAndName).containsKey("ServiceAccount/keel");
    Map<String, Object> binding = byKindAndName.get("RoleBinding/keel-pod-reader");
    assertThat(map(list(binding.get("subjects")).get(0)).get("name")).isEqualTo("keel");
    String role = (String) map(binding.get("roleRef")).get("name");
    Map<String, Object> rule = map(list(byKindAndName.get("Role/" + role).get("rules")).get(0));
    assertThat(strings(rule.get("resources"))).containsExactly("pods");
    assertThat(strings(rule.get("verbs")))
        .contains("list", "get", "watch")
        .doesNotContain("create", "delete", "update", "patch");

    for (String service : List.of("Service/keel", "Service/keel-internal")) {
      assertThat(map(byKindAndName.get(service).get("spec")).get("selector"))
          .as(service + " selects the pods")
          .isEqualTo(podLabels);
    }
    Map<String, Object> pdb = map(byKindAndName.get("PodDisruptionBudget/keel").get("spec"));
    assertThat(map(map(pdb.get("selector")).get("matchLabels"))).isEqualTo(podLabels);
    assertThat(pdb.get("maxUnavailable")).as("one pod at a time").isEqualTo(1);
  }

  @Test
  void composeRunsThreeNodesSeededWithEachOtherOnPostgres() throws IOException {
    Map<String, Object> compose = map(loadAll(DEPLOY.resolve("compose.yaml")).get(0));
    Map<String, Object> services = map(compose.get("services"));
    assertThat(services).containsKeys("postgres", "keel-1", "keel-2", "keel-3");
    for (String name : List.of("keel-1", "keel-2", "keel-3")) {
      Map<String, Object> node = map(services.get(name));
      Map<String, Object> env = map(node.get("environment"));
      assertThat(env.get("KEEL_HOST")).as(name + " is reachable by its name").isEqualTo(name);
      assertThat(env.get("KEEL_SEED_NODES").toString())
          .as(name + " seeds, keel-1 first")
          .isEqualTo("keel-1:25520,keel-2:25520,keel-3:25520");
      assertThat(env.get("KEEL_DATABASE_URL").toString()).startsWith("jdbc:postgresql://postgres:");
      // Secrets from the operator's environment, required, never written here.
      assertThat(env.get("KEEL_ADMIN_TOKEN").toString()).startsWith("${KEEL_ADMIN_TOKEN:?");
      assertThat(env.get("KEEL_DATABASE_PASSWORD").toString()).startsWith("${KEEL_DB_PASSWORD:?");
      assertThat(node.get("stop_grace_period")).as(name + " has time for the hand-off").isNotNull();
      assertThat(map(node.get("build")).get("dockerfile")).isEqualTo("deploy/Dockerfile");
    }
  }

  @Test
  void dockerfileBuildsInOneStageAndRunsUnprivilegedInAnother() throws IOException {
    String dockerfile = Files.readString(DEPLOY.resolve("Dockerfile"));
    List<String> from = dockerfile.lines().filter(l -> l.startsWith("FROM ")).toList();
    assertThat(from).as("multi-stage").hasSize(2);
    assertThat(from.get(0)).contains("maven").contains("17").contains(" AS build");
    assertThat(from.get(1)).contains("jre").contains("17");
    List<String> users = dockerfile.lines().filter(l -> l.startsWith("USER ")).toList();
    assertThat(users).hasSize(1).allMatch(u -> !u.contains("root") && !u.equals("USER 0"));
    assertThat(dockerfile)
        .contains("HEALTHCHECK")
        .contains("/health")
        .contains("MaxRAMPercentage")
        .containsPattern("(?m)^EXPOSE .*8080");
    assertThat(dockerfile).as("the JVM gets SIGTERM itself").contains("exec java");
  }

  @Test
  void systemdUnitRestartsOnFailureAndStopsGracefully() throws IOException {
    Map<String, String> unit = new HashMap<>();
    for (String line : Files.readAllLines(DEPLOY.resolve("systemd/keel.service"))) {
      int eq = line.indexOf('=');
      if (!line.startsWith("#") && eq > 0) unit.put(line.substring(0, eq), line.substring(eq + 1));
    }
    assertThat(unit)
        .containsEntry("Restart", "on-failure")
        .containsEntry("KillSignal", "SIGTERM")
        .containsEntry("User", "keel")
        .containsEntry("SuccessExitStatus", "143")
        .containsKey("EnvironmentFile");
    assertThat(Integer.parseInt(unit.get("TimeoutStopSec"))).isGreaterThanOrEqualTo(60);
    assertThat(unit.get("ExecStart")).contains("keel.jar server");
  }

  @Test
  void everyKeelVariableInDeployIsOneTheNodeReads() throws IOException {
    Set<String> known = new TreeSet<>(List.of("KEEL_JAVA_OPTS"));
    try (Stream<Path> modules = Files.list(repositoryRoot())) {
      for (Path module : modules.toList()) {
        Path resources = module.resolve("src/main/resources");
        if (!Files.isDirectory(resources)) continue;
        for (Path f : files(resources, ".conf", ".xml")) {
          Matcher m = KEEL_VARIABLE.matcher(Files.readString(f));
          while (m.find()) known.add(m.group());
        }
      }
    }
    // The deployment files; the local-cluster script also has variables of its own
    // (LOCAL_CLUSTER_*).
    List<String> unknown = new ArrayList<>();
    for (Path f : files(DEPLOY, ".yaml", ".example", ".service", "Dockerfile")) {
      Matcher m = KEEL_VARIABLE.matcher(Files.readString(f));
      while (m.find()) {
        String v = m.group();
        // compose's own variables for secrets, read from the operator's shell, not by the node.
        if (f.getFileName().toString().equals("compose.yaml") && v.equals("KEEL_DB_PASSWORD"))
          continue;
        if (!known.contains(v)) unknown.add(f.getFileName() + ": " + v);
      }
    }
    assertThat(unknown).as("variables the node would ignore (a typo?); known: " + known).isEmpty();
  }

  @Test
  void localClusterScriptIsValidBash() throws Exception {
    Path script = DEPLOY.resolve("local-cluster.sh");
    assertThat(Files.isExecutable(script)).as(script + " is executable").isTrue();
    Process p =
        new ProcessBuilder("bash", "-n", script.toString()).redirectErrorStream(true).start();
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes())).isZero();
  }

  // ---------------------------------------------------------------- helpers

  private static List<Object> loadAll(Path f) throws IOException {
    Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
    List<Object> docs = new ArrayList<>();
    for (Object doc : yaml.loadAll(Files.readString(f))) if (doc != null) docs.add(doc);
    return docs;
  }

  private static List<Path> files(Path dir, String... suffixes) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile)
          .filter(p -> !p.toString().contains("/.local-cluster/"))
          .filter(p -> Stream.of(suffixes).anyMatch(s -> p.getFileName().toString().endsWith(s)))
          .sorted()
          .toList();
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertThat(o).isInstanceOf(Map.class);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    assertThat(o).isInstanceOf(List.class);
    return (List<Object>) o;
  }

  private static List<String> strings(Object o) {
    return list(o).stream().map(Object::toString).toList();
  }

  private static Object path(Map<String, Object> root, String... keys) {
    Object o = root;
    for (String k : keys) o = map(o).get(k);
    return o;
  }

  static Path repositoryRoot() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isDirectory(p.resolve("deploy")) && Files.isRegularFile(p.resolve("pom.xml")))
        return p;
    }
    throw new AssertionError("no deploy/ folder above " + Path.of("").toAbsolutePath());
  }
}
