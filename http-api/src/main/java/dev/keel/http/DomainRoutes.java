package dev.keel.http;

import static dev.keel.http.HttpApi.blankToNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.keel.persistence.BadCursorException;
import dev.keel.persistence.RequestScope;
import dev.keel.persistence.grammar.Hostnames;
import dev.keel.persistence.grammar.Instants;
import dev.keel.persistence.grammar.InvalidValueException;
import dev.keel.persistence.grammar.Texts;
import dev.keel.tenant.domain.DomainReadModel;
import dev.keel.tenant.domain.DomainService;
import dev.keel.tenant.quota.Quota;
import dev.keel.tenant.quota.QuotaAdmission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /api/v1/tenants/{id}/domains} (API.md, Tenants): a tenant's custom hostnames. Mounted by
 * {@link TenantRoutes} under the tenant's path once the caller may act for that tenant, so these
 * routes only translate. Hostnames in paths may be internationalised (percent-encoded UTF-8): they
 * are normalised like the ones in bodies.
 */
public final class DomainRoutes {

  private static final Set<String> ADD_FIELDS = Set.of("hostname");
  private static final Set<String> CERTIFICATE_FIELDS = Set.of("status", "expiresAt", "reason");
  private static final Set<String> LIST_PARAMS = Set.of("limit", "cursor");
  private static final List<String> SETTABLE_CERTIFICATE_STATUSES =
      List.of("pending", "issued", "failed", "expired");

  private final HttpApi api;
  private final DomainService domains;
  private final QuotaAdmission quotas;
  private final String rootDomain;

  public DomainRoutes(
      HttpApi api, DomainService domains, QuotaAdmission quotas, String rootDomain) {
    this.api = api;
    this.domains = domains;
    this.quotas = quotas;
    this.rootDomain = rootDomain;
  }

  /**
   * The routes of tenant {@code tenantId}'s domains, relative to {@code
   * /api/v1/tenants/{tenantId}/}.
   */
  public Route routes(String tenantId) {
    return api.pathPrefix(
        "domains",
        () ->
            api.concat(
                api.pathEndOrSingleSlash(
                    () ->
                        api.concat(
                            api.post(() -> api.jsonBody(false, body -> add(tenantId, body))),
                            api.get(() -> api.parameterMap(params -> list(tenantId, params))))),
                api.pathPrefix(
                    PathMatchers.segment(),
                    hostname ->
                        api.concat(
                            api.pathEndOrSingleSlash(
                                () ->
                                    api.concat(
                                        api.get(
                                            () ->
                                                api.answerOk(
                                                    checked(
                                                        () -> domains.get(tenantId, hostname)))),
                                        api.delete(
                                            () ->
                                                api.answer(
                                                    remove(tenantId, hostname),
                                                    done ->
                                                        HttpResponse.create()
                                                            .withStatus(StatusCodes.NO_CONTENT))))),
                            api.path(
                                "verify",
                                () ->
                                    api.post(
                                        () ->
                                            api.answerOk(
                                                checked(
                                                    () -> domains.verify(tenantId, hostname))))),
                            api.path(
                                "certificate",
                                () ->
                                    api.put(
                                        () ->
                                            api.jsonBody(
                                                false,
                                                body ->
                                                    certificate(tenantId, hostname, body))))))));
  }

  private Route add(String tenantId, JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    String hostname = new BodyFields(body, ADD_FIELDS, errors).text("hostname", true);
    if (!errors.isEmpty()) throw ApiProblem.badRequest("the domain has invalid fields", errors);
    // Normalised first, so that the same hostname written differently is not counted as a new one.
    String normalised = checked(() -> Hostnames.normalise(hostname, rootDomain));
    return api.answer(
        quotas.admit(
            tenantId,
            Quota.DOMAINS,
            normalised,
            RequestScope.bound(() -> checked(() -> domains.add(tenantId, hostname))),
            claimed -> true),
        result -> api.json(result.created() ? StatusCodes.CREATED : StatusCodes.OK, result.view()));
  }

  /** Frees the hostname and then its slot, so that the tenant's next claim finds the slot free. */
  private java.util.concurrent.CompletionStage<org.apache.pekko.Done> remove(
      String tenantId, String hostname) {
    String normalised = checked(() -> Hostnames.normalise(hostname, rootDomain));
    return checked(() -> domains.remove(tenantId, hostname))
        .thenCompose(
            RequestScope.bound(done -> quotas.release(tenantId, Quota.DOMAINS, normalised)));
  }

  private Route certificate(String tenantId, String hostname, JsonNode body) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    BodyFields fields = new BodyFields(body, CERTIFICATE_FIELDS, errors);
    String status = fields.text("status", true);
    if (status != null && !SETTABLE_CERTIFICATE_STATUSES.contains(status)) {
      errors.add(
          new ApiProblem.FieldError(
              "status", "must be one of " + String.join(", ", SETTABLE_CERTIFICATE_STATUSES)));
    }
    String expiresText = fields.text("expiresAt", false);
    Instant expiresAt = null;
    if (expiresText != null) {
      try {
        expiresAt = Instants.parse(expiresText);
      } catch (InvalidValueException e) {
        errors.add(new ApiProblem.FieldError("expiresAt", e.getMessage()));
      }
    } else if ("issued".equals(status)) {
      errors.add(new ApiProblem.FieldError("expiresAt", "is required when the status is issued"));
    }
    String reason = fields.text("reason", false);
    Texts.freeTextProblem(reason, Texts.MAX_REASON_LENGTH)
        .ifPresent(p -> errors.add(new ApiProblem.FieldError("reason", p)));
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the certificate has invalid fields", errors);
    Instant expires = expiresAt;
    return api.answerOk(
        checked(() -> domains.setCertificate(tenantId, hostname, status, expires, reason)));
  }

  private Route list(String tenantId, Map<String, String> params) {
    List<ApiProblem.FieldError> errors = new ArrayList<>();
    int limit = HttpApi.pageLimit(params, LIST_PARAMS, errors);
    String cursor = blankToNull(params.get("cursor"));
    if (cursor != null) {
      try {
        DomainReadModel.decodeCursor(cursor);
      } catch (BadCursorException e) {
        errors.add(new ApiProblem.FieldError("cursor", e.getMessage()));
      }
    }
    if (!errors.isEmpty())
      throw ApiProblem.badRequest("the list request has invalid parameters", errors);
    return api.answerOk(domains.list(tenantId, limit, cursor));
  }

  /** A hostname the façade refuses at once is a 400 naming the {@code hostname} field. */
  private static <T> T checked(Supplier<T> call) {
    try {
      return call.get();
    } catch (Hostnames.InvalidHostnameException e) {
      throw ApiProblem.badRequest("hostname", e.getMessage());
    }
  }
}
