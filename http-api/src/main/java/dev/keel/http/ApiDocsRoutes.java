package dev.keel.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The contract, machine-readable: {@code GET /api/v1/openapi.json}, the OpenAPI 3.1 document kept
 * as {@value #DOCUMENT} and served as JSON, and {@code GET /api/docs}, Swagger UI (from its WebJar)
 * showing it. No token: the contract holds no secret, and the page asks for a token only to try a
 * request, keeping it in the page's memory. Every file is read once, when the node starts.
 */
public final class ApiDocsRoutes {

  static final String DOCUMENT = "openapi/keel.yaml";
  private static final String WEBJAR = "META-INF/resources/webjars/swagger-ui/";
  private static final String WEBJAR_VERSION =
      "META-INF/maven/org.webjars/swagger-ui/pom.properties";
  private static final ContentType JAVASCRIPT =
      MediaTypes.APPLICATION_JAVASCRIPT.toContentType(HttpCharsets.UTF_8);

  /**
   * Swagger UI's own files may be cached for an hour; the document and the page are revalidated.
   */
  private static final RawHeader CACHE_ASSET =
      RawHeader.create("Cache-Control", "public, max-age=3600");

  private static final RawHeader NO_CACHE = RawHeader.create("Cache-Control", "no-cache");

  private final HttpApi api;
  private final HttpResponse document;
  private final HttpResponse page;
  private final Map<String, HttpResponse> assets;

  public ApiDocsRoutes(HttpApi api) {
    this.api = api;
    ClassLoader loader = ApiDocsRoutes.class.getClassLoader();
    this.document =
        HttpResponse.create()
            .addHeader(NO_CACHE)
            .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, documentAsJson(loader)));
    this.page =
        HttpResponse.create()
            .addHeader(NO_CACHE)
            .withEntity(
                HttpEntities.create(
                    ContentTypes.TEXT_HTML_UTF8, read(loader, "openapi/docs.html")));
    String webjar = WEBJAR + webjarVersion(loader) + "/";
    Map<String, HttpResponse> files = new LinkedHashMap<>();
    files.put(
        "swagger-ui.css",
        asset(
            MediaTypes.TEXT_CSS.toContentType(HttpCharsets.UTF_8),
            read(loader, webjar + "swagger-ui.css")));
    files.put(
        "swagger-ui-bundle.js", asset(JAVASCRIPT, read(loader, webjar + "swagger-ui-bundle.js")));
    files.put(
        "favicon-32x32.png",
        asset(MediaTypes.IMAGE_PNG.toContentType(), read(loader, webjar + "favicon-32x32.png")));
    files.put("keel-docs.js", asset(JAVASCRIPT, read(loader, "openapi/keel-docs.js")));
    this.assets = Map.copyOf(files);
  }

  /**
   * {@code /api/v1/openapi.json}, {@code /api/docs} and the page's files under {@code /api/docs/};
   * outside the token check.
   */
  public Route routes() {
    return api.pathPrefix(
        "api",
        () ->
            api.concat(
                api.path(
                    PathMatchers.segment("v1").slash("openapi.json"),
                    () -> api.get(() -> api.complete(document))),
                api.pathPrefix(
                    "docs",
                    () ->
                        api.concat(
                            api.pathEnd(() -> api.get(() -> api.complete(page))),
                            api.path(
                                PathMatchers.segment(),
                                name ->
                                    api.get(
                                        () -> {
                                          HttpResponse file = assets.get(name);
                                          if (file == null)
                                            throw ApiProblem.notFound(
                                                "no such file; the API's documentation is at"
                                                    + " /api/docs");
                                          // Swagger UI's bundle is 1.7 MB; gzip brings it under 0.5
                                          // MB for browsers that take it.
                                          return api.encodeResponse(() -> api.complete(file));
                                        }))))));
  }

  private static HttpResponse asset(ContentType type, byte[] bytes) {
    return HttpResponse.create()
        .addHeader(CACHE_ASSET)
        .withEntity(HttpEntities.create(type, bytes));
  }

  /**
   * The YAML document as JSON bytes; a document that does not parse stops the node (it is part of
   * the build).
   */
  static byte[] documentAsJson(ClassLoader loader) {
    try {
      return new ObjectMapper()
          .writeValueAsBytes(new ObjectMapper(new YAMLFactory()).readTree(read(loader, DOCUMENT)));
    } catch (IOException e) {
      throw new UncheckedIOException("the OpenAPI document " + DOCUMENT + " does not parse", e);
    }
  }

  /** The Swagger UI WebJar's version: its files live under a folder named after it. */
  private static String webjarVersion(ClassLoader loader) {
    Properties properties = new Properties();
    try (InputStream in = new java.io.ByteArrayInputStream(read(loader, WEBJAR_VERSION))) {
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return properties.getProperty("version");
  }

  private static byte[] read(ClassLoader loader, String resource) {
    try (InputStream in = loader.getResourceAsStream(resource)) {
      if (in == null) throw new IllegalStateException("missing from the class path: " + resource);
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
