package dev.keel.it;

import static dev.keel.it.KeelChildProcess.assertOneLineNaming;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.keel.workflow.sdk.Workflow;
import java.io.File;
import java.io.IOException;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Plug-in workflows: a jar built at test time (compiled with the system Java compiler against the
 * SDK, with a {@code META-INF/services/dev.keel.workflow.sdk.Workflow} file) is dropped into a
 * directory, and a real {@code keel server --plugins-dir <dir>} child process must list and run it.
 * A plug-in that takes a built-in's name, or names a class that is not there, must stop start-up
 * with one line naming {@code --plugins-dir} (the flag it came from) and exit code 2.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class PluginWorkflowIT {

  private static final Path LOG_DIR = Path.of("target", "plugin-it").toAbsolutePath();
  private static final String TOKEN = "plugin-it-admin-token-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String GREETING_SOURCE =
      """
      package keelit.plugin;

      import dev.keel.workflow.sdk.Workflow;
      import dev.keel.workflow.sdk.WorkflowContext;
      import java.util.Map;

      /** Two steps: compose a greeting, then shout it. */
      public final class GreetingWorkflow implements Workflow<Map, String> {
        public String name() { return "greeting"; }
        public Class<Map> inputType() { return Map.class; }
        public String description() { return "Greets someone in two steps"; }
        public int version() { return 3; }

        public String run(WorkflowContext ctx, Map input) {
          String greeting = ctx.step("compose", String.class, () -> "Hello, " + input.get("name"));
          return ctx.step("shout", String.class, () -> greeting.toUpperCase() + "!");
        }
      }
      """;

  private static final String CLASHING_SOURCE =
      """
      package keelit.plugin;

      import dev.keel.workflow.sdk.Workflow;
      import dev.keel.workflow.sdk.WorkflowContext;
      import java.util.Map;

      /** Takes the name of the built-in "example" workflow. */
      public final class ImpostorWorkflow implements Workflow<Map, String> {
        public String name() { return "example"; }
        public Class<Map> inputType() { return Map.class; }
        public String run(WorkflowContext ctx, Map input) { return "impostor"; }
      }
      """;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private ChildNodes nodes;
  private Path tempDir;

  @BeforeEach
  void setUp() throws IOException {
    nodes = new ChildNodes("keel-plugin-it-");
    tempDir = nodes.tempDir();
  }

  @AfterEach
  void tearDown() {
    nodes.close();
  }

  @Test
  void pluginJarWorkflow_isListedAndRunsToCompletion() throws Exception {
    Path plugins = tempDir.resolve("plugins");
    buildPluginJar(
        plugins.resolve("greeting.jar"), "keelit.plugin.GreetingWorkflow", GREETING_SOURCE);

    KeelChildProcess node = startNode("greeting", plugins);
    node.awaitReady(http);

    HttpResponse<String> defs = send(node, "GET", "/api/v1/workflow-definitions", null);
    assertThat(defs.statusCode()).as(node.describe("definitions: " + defs.body())).isEqualTo(200);
    List<String> names = new ArrayList<>();
    JsonNode greeting = null;
    for (JsonNode item : JSON.readTree(defs.body()).path("items")) {
      names.add(item.path("name").asText());
      if (item.path("name").asText().equals("greeting")) greeting = item;
    }
    assertThat(names)
        .as(node.describe("workflow-definitions: " + defs.body()))
        .contains("greeting", "example", "http-sequence");
    assertThat(greeting.path("description").asText()).isEqualTo("Greets someone in two steps");
    assertThat(greeting.path("version").asInt()).isEqualTo(3);
    assertThat(node.stdoutText())
        .as(node.describe("a log line for the plug-in"))
        .contains("plug-in workflow loaded name=greeting");

    String body = "{\"workflow\":\"greeting\",\"id\":\"greet-1\",\"input\":{\"name\":\"Ada\"}}";
    HttpResponse<String> started = send(node, "POST", "/api/v1/workflows", body);
    assertThat(started.statusCode())
        .as(node.describe("start greeting: " + started.body()))
        .isEqualTo(201);

    JsonNode execution = awaitFinal(node, "greet-1", Instant.now().plusSeconds(90));
    assertThat(execution.path("status").asText())
        .as(node.describe("execution: " + execution))
        .isEqualTo("completed");
    assertThat(execution.path("output").asText())
        .as("output of " + execution)
        .isEqualTo("HELLO, ADA!");
    assertThat(execution.path("workflow").asText()).isEqualTo("greeting");
    assertThat(execution.path("version").asInt()).as("version stamp of " + execution).isEqualTo(3);
    List<String> steps = new ArrayList<>();
    for (JsonNode s : execution.path("steps")) {
      steps.add(s.path("name").asText() + ":" + s.path("status").asText());
    }
    assertThat(steps)
        .as("steps of " + execution)
        .containsExactly("compose:completed", "shout:completed");
    assertThat(execution.path("steps").get(0).path("output").asText()).isEqualTo("Hello, Ada");

    // Same id, same content: the same execution again.
    HttpResponse<String> again = send(node, "POST", "/api/v1/workflows", body);
    assertThat(again.statusCode())
        .as(node.describe("idempotent start: " + again.body()))
        .isEqualTo(200);

    // The built-ins still run beside the plug-in.
    HttpResponse<String> example =
        send(
            node,
            "POST",
            "/api/v1/workflows",
            "{\"workflow\":\"example\",\"id\":\"ex-1\",\"input\":{\"userId\":\"u-1\",\"action\":\"signup\"}}");
    assertThat(example.statusCode())
        .as(node.describe("start example: " + example.body()))
        .isEqualTo(201);
    JsonNode exampleDone = awaitFinal(node, "ex-1", Instant.now().plusSeconds(90));
    assertThat(exampleDone.path("status").asText())
        .as("example: " + exampleDone)
        .isEqualTo("completed");
  }

  @Test
  void pluginTakingABuiltInName_stopsStartUpNamingPluginsDir() throws Exception {
    Path plugins = tempDir.resolve("plugins-clash");
    buildPluginJar(
        plugins.resolve("impostor.jar"), "keelit.plugin.ImpostorWorkflow", CLASHING_SOURCE);

    KeelChildProcess node = startNode("clash", plugins);
    int code = node.awaitExit(KeelChildProcess.EXIT_DEADLINE);
    assertOneLineNaming(node, code, "--plugins-dir");
    assertThat(node.stderrLines().get(0))
        .as(node.describe("the line names the workflow"))
        .contains("'example'");
  }

  @Test
  void pluginNamingAMissingClass_stopsStartUpNamingPluginsDir() throws Exception {
    Path plugins = tempDir.resolve("plugins-missing");
    Files.createDirectories(plugins);
    try (JarOutputStream jar =
        new JarOutputStream(Files.newOutputStream(plugins.resolve("broken.jar")), manifest())) {
      jar.putNextEntry(new JarEntry("META-INF/services/" + Workflow.class.getName()));
      jar.write("keelit.plugin.NotThere\n".getBytes(StandardCharsets.UTF_8));
      jar.closeEntry();
    }

    KeelChildProcess node = startNode("missing-class", plugins);
    int code = node.awaitExit(KeelChildProcess.EXIT_DEADLINE);
    assertOneLineNaming(node, code, "--plugins-dir");
  }

  // ---------------------------------------------------------------- the plug-in jar

  /**
   * Compiles {@code source} against the test class path and packs it with its service file into
   * {@code jar}.
   */
  private void buildPluginJar(Path jar, String className, String source) throws IOException {
    Path src = tempDir.resolve("src-" + jar.getFileName());
    Path classes = tempDir.resolve("classes-" + jar.getFileName());
    Path file = src.resolve(className.replace('.', '/') + ".java");
    Files.createDirectories(file.getParent());
    Files.createDirectories(classes);
    Files.writeString(file, source);

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertThat(javac).as("a JDK with javac runs the tests").isNotNull();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    StringWriter out = new StringWriter();
    try (StandardJavaFileManager files =
        javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
      List<String> options =
          List.of(
              "--release",
              "17",
              "-proc:none",
              "-Xlint:none",
              "-nowarn",
              "-classpath",
              compileClassPath(),
              "-d",
              classes.toString());
      boolean ok =
          javac
              .getTask(
                  out, files, diagnostics, options, null, files.getJavaFileObjects(file.toFile()))
              .call();
      assertThat(ok)
          .as("compiling " + className + ": " + out + diagnostics.getDiagnostics())
          .isTrue();
    }

    Files.createDirectories(jar.getParent());
    try (JarOutputStream target = new JarOutputStream(Files.newOutputStream(jar), manifest());
        Stream<Path> walk = Files.walk(classes)) {
      for (Path p : walk.filter(Files::isRegularFile).sorted().toList()) {
        target.putNextEntry(
            new JarEntry(classes.relativize(p).toString().replace(File.separatorChar, '/')));
        Files.copy(p, target);
        target.closeEntry();
      }
      target.putNextEntry(new JarEntry("META-INF/services/" + Workflow.class.getName()));
      target.write((className + "\n").getBytes(StandardCharsets.UTF_8));
      target.closeEntry();
    }
  }

  /**
   * The test class path, plus where the SDK itself was loaded from: under failsafe {@code
   * java.class.path} may be a manifest-only jar.
   */
  private static String compileClassPath() {
    List<String> entries = new ArrayList<>();
    try {
      entries.add(
          Path.of(Workflow.class.getProtectionDomain().getCodeSource().getLocation().toURI())
              .toString());
    } catch (Exception e) {
      // fall back to java.class.path alone
    }
    entries.add(System.getProperty("java.class.path"));
    return String.join(File.pathSeparator, entries);
  }

  private static Manifest manifest() {
    Manifest m = new Manifest();
    m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
    return m;
  }

  // ---------------------------------------------------------------- the node

  private KeelChildProcess startNode(String name, Path plugins) throws IOException {
    int port = KeelChildProcess.freePort();
    KeelChildProcess node =
        KeelChildProcess.start(
            LOG_DIR,
            name,
            List.of(
                "--http-port",
                Integer.toString(port),
                "--cluster-port",
                "0",
                "--data-dir",
                tempDir.resolve("data-" + name).toString(),
                "--admin-token",
                TOKEN,
                "--plugins-dir",
                plugins.toString()),
            Map.of(),
            port);
    nodes.track(node);
    return node;
  }

  private JsonNode awaitFinal(KeelChildProcess node, String id, Instant deadline) throws Exception {
    JsonNode last = null;
    while (Instant.now().isBefore(deadline)) {
      HttpResponse<String> r = send(node, "GET", "/api/v1/workflows/" + id + "?wait=PT20S", null);
      assertThat(r.statusCode())
          .as(node.describe("long poll " + id + ": " + r.body()))
          .isEqualTo(200);
      last = JSON.readTree(r.body());
      String status = last.path("status").asText();
      if (status.equals("completed") || status.equals("failed") || status.equals("cancelled"))
        return last;
      if (!node.process.isAlive())
        throw new AssertionError(node.describe("node died while waiting for " + id));
    }
    throw new AssertionError(node.describe(id + " not final by the deadline; last seen: " + last));
  }

  private HttpResponse<String> send(KeelChildProcess node, String method, String path, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(node.uri(path))
            .timeout(Duration.ofSeconds(45))
            .header("Authorization", "Bearer " + TOKEN);
    if (body == null) {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      b.header("Content-Type", "application/json")
          .method(method, HttpRequest.BodyPublishers.ofString(body));
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
