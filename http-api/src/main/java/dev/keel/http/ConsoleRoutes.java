package dev.keel.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The operator console at {@code /ui}: static files from {@code keel/console/} on the class path,
 * one level deep, that call the JSON API from the browser with the credential the user signs in
 * with. No file holds data or needs a token; every answer carries a CSP that allows scripts, styles
 * and requests from this origin only, so a value shown by the console can never run as code. {@code
 * GET /api/v1/caller} tells the console whom its credential stands for.
 */
public final class ConsoleRoutes {

  static final String RESOURCES = "keel/console/";
  static final String CONTENT_SECURITY_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  /** File names the console is made of: no directories, no dot files, a known extension. */
  private static final Pattern FILE = Pattern.compile("^[a-z][a-z0-9-]{0,63}\\.(html|js|css|svg)$");

  private static final List<HttpHeader> HEADERS =
      List.of(
          RawHeader.create("Content-Security-Policy", CONTENT_SECURITY_POLICY),
          RawHeader.create("X-Content-Type-Options", "nosniff"),
          RawHeader.create("X-Frame-Options", "DENY"),
          RawHeader.create("Referrer-Policy", "no-referrer"),
          // Small files: a browser revalidates them, so a node upgrade never mixes old and new
          // modules.
          RawHeader.create("Cache-Control", "no-cache"));

  private final HttpApi api;
  private final Map<String, byte[]> files = new ConcurrentHashMap<>();

  public ConsoleRoutes(HttpApi api) {
    this.api = api;
  }

  /**
   * Files of the console's libraries, each from its WebJar (so {@code mvn package} fetches them
   * like any dependency): the name the console asks for, and the file in the WebJar's folder.
   */
  private static final Map<String, String> VENDOR =
      Map.of(
          "uplot.js", "uplot/dist/uPlot.esm.js",
          "uplot.css", "uplot/dist/uPlot.min.css");

  /** {@code /ui}, {@code /ui/} (the page), {@code /ui/<file>} and {@code /ui/vendor/<file>}. */
  public Route files() {
    return api.pathPrefix(
        "ui",
        () ->
            api.concat(
                api.pathEndOrSingleSlash(() -> api.get(() -> file("index.html"))),
                api.path(
                    PathMatchers.segment("vendor").slash(PathMatchers.segment()),
                    name -> api.get(() -> vendorFile(name))),
                api.path(PathMatchers.segment(), name -> api.get(() -> file(name)))));
  }

  private Route vendorFile(String name) {
    String inWebjar = VENDOR.get(name);
    Optional<byte[]> bytes =
        inWebjar == null ? Optional.empty() : cached("vendor/" + name, () -> webjarFile(inWebjar));
    if (bytes.isEmpty()) throw ApiProblem.notFound("the console has no file 'vendor/" + name + "'");
    return api.complete(
        HttpResponse.create()
            .withStatus(StatusCodes.OK)
            .addHeaders(HEADERS)
            .withEntity(HttpEntities.create(contentType(name), bytes.get())));
  }

  /**
   * {@code library/path} in its WebJar, whose files live under a folder named after its version.
   */
  private static Optional<byte[]> webjarFile(String libraryAndPath) {
    String library = libraryAndPath.substring(0, libraryAndPath.indexOf('/'));
    ClassLoader loader = ConsoleRoutes.class.getClassLoader();
    Properties pom = new Properties();
    try (InputStream in =
        loader.getResourceAsStream(
            "META-INF/maven/org.webjars.npm/" + library + "/pom.properties")) {
      if (in == null) return Optional.empty();
      pom.load(in);
      try (InputStream file =
          loader.getResourceAsStream(
              "META-INF/resources/webjars/"
                  + library
                  + "/"
                  + pom.getProperty("version")
                  + libraryAndPath.substring(library.length()))) {
        return file == null ? Optional.empty() : Optional.of(file.readAllBytes());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Optional<byte[]> cached(String key, java.util.function.Supplier<Optional<byte[]>> load) {
    byte[] bytes = files.get(key);
    if (bytes != null) return Optional.of(bytes);
    Optional<byte[]> loaded = load.get();
    loaded.ifPresent(b -> files.put(key, b));
    return loaded;
  }

  /**
   * {@code GET /api/v1/caller}: {@code {"admin": true, "role": "admin"}}, or for a key {@code
   * {"admin": false, "role", "tenantId"}} ({@code tenantId} absent for a cluster-wide key).
   */
  public Route caller(Caller caller) {
    return api.path(
        "caller",
        () ->
            api.get(
                () ->
                    api.complete(
                        api.json(
                            StatusCodes.OK,
                            caller.clusterWide()
                                ? Map.of("admin", caller.admin(), "role", caller.role().wire())
                                : Map.of(
                                    "admin",
                                    false,
                                    "tenantId",
                                    caller.tenantId(),
                                    "role",
                                    caller.role().wire())))));
  }

  private Route file(String name) {
    Optional<byte[]> bytes = FILE.matcher(name).matches() ? read(name) : Optional.empty();
    if (bytes.isEmpty()) throw ApiProblem.notFound("the console has no file '" + name + "'");
    return api.complete(
        HttpResponse.create()
            .withStatus(StatusCodes.OK)
            .addHeaders(HEADERS)
            .withEntity(HttpEntities.create(contentType(name), bytes.get())));
  }

  private Optional<byte[]> read(String name) {
    byte[] cached = files.get(name);
    if (cached != null) return Optional.of(cached);
    try (InputStream in =
        ConsoleRoutes.class.getClassLoader().getResourceAsStream(RESOURCES + name)) {
      if (in == null) return Optional.empty();
      byte[] bytes = in.readAllBytes();
      // Only files that exist are kept: the cache is bounded by what the jar holds.
      files.put(name, bytes);
      return Optional.of(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static ContentType contentType(String name) {
    String extension = name.substring(name.lastIndexOf('.') + 1);
    return switch (extension) {
      case "html" -> ContentTypes.TEXT_HTML_UTF8;
      case "css" -> MediaTypes.TEXT_CSS.toContentType(HttpCharsets.UTF_8);
      case "svg" -> MediaTypes.IMAGE_SVG_XML.toContentType();
      default -> MediaTypes.APPLICATION_JAVASCRIPT.toContentType(HttpCharsets.UTF_8);
    };
  }
}
