package dev.keel.pipeline;

import dev.keel.persistence.grammar.Ids;
import dev.keel.pipeline.PipelineSpec.Component;
import dev.keel.pipeline.PipelineSpec.RestartPolicy;
import dev.keel.pipeline.PipelineSpec.Role;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

/**
 * Reads and validates a pipeline file ({@code apiVersion: keel/v1, kind: Pipeline}). SnakeYAML's
 * node tree is used rather than data binding because every node keeps its line, so each mistake is
 * reported where it is. All mistakes are collected; {@link Invalid} carries them, and nothing may
 * be started from a file that has any.
 */
public final class PipelineFile {

  /** Service ids as the registry accepts them (API.md, conventions). */
  static final Pattern ID = Ids.PATTERN;

  static final Duration DEFAULT_REGISTER_TIMEOUT = Duration.ofSeconds(60);
  private static final Set<String> TOP = Set.of("apiVersion", "kind", "metadata", "spec");
  private static final Set<String> METADATA = Set.of("name");
  private static final Set<String> COMPONENT =
      Set.of("id", "command", "env", "dependsOn", "restart", "registerTimeoutSeconds");

  /** A pipeline file with mistakes, each with its line and path. */
  public static final class Invalid extends RuntimeException {
    private final List<PipelineProblem> problems;

    Invalid(List<PipelineProblem> problems) {
      super(problems.size() + " problem(s) in the pipeline file", null, false, false);
      this.problems = List.copyOf(problems);
    }

    public List<PipelineProblem> problems() {
      return problems;
    }
  }

  private final List<PipelineProblem> problems = new ArrayList<>();

  private PipelineFile() {}

  /** Reads and validates {@code file}; throws {@link Invalid} listing every mistake. */
  public static PipelineSpec read(Path file) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8));
  }

  /** Validates the text of a pipeline file; throws {@link Invalid} listing every mistake. */
  public static PipelineSpec parse(String text) {
    PipelineFile file = new PipelineFile();
    PipelineSpec spec = file.build(text);
    if (!file.problems.isEmpty()) {
      // In the order of the file, as an editor shows them.
      List<PipelineProblem> inFileOrder = new ArrayList<>(file.problems);
      inFileOrder.sort(java.util.Comparator.comparingInt(PipelineProblem::line));
      throw new Invalid(inFileOrder);
    }
    return spec;
  }

  private PipelineSpec build(String text) {
    Node root;
    try {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      root = new Yaml(options).compose(new java.io.StringReader(text));
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 1 : e.getProblemMark().getLine() + 1;
      problems.add(new PipelineProblem(line, "", "not valid YAML: " + e.getProblem()));
      return null;
    } catch (YAMLException e) {
      problems.add(new PipelineProblem(1, "", "not valid YAML: " + e.getMessage()));
      return null;
    }
    if (!(root instanceof MappingNode)) {
      problems.add(
          new PipelineProblem(
              root == null ? 1 : line(root),
              "",
              "must be a mapping with apiVersion, kind, metadata and spec"));
      return null;
    }
    Map<String, NodeTuple> top = fields((MappingNode) root, "", TOP);
    expectWord(top, "apiVersion", "", "keel/v1", line(root));
    expectWord(top, "kind", "", "Pipeline", line(root));
    String name = null;
    MappingNode metadata = mapping(top.get("metadata"), "metadata", line(root));
    if (metadata != null) {
      Map<String, NodeTuple> m = fields(metadata, "metadata", METADATA);
      name = id(m.get("name"), "metadata.name", line(metadata));
    }
    MappingNode specNode = mapping(top.get("spec"), "spec", line(root));
    if (specNode == null) return null;
    Set<String> sections =
        Arrays.stream(Role.values()).map(Role::section).collect(Collectors.toSet());
    Map<String, NodeTuple> spec = fields(specNode, "spec", sections);
    List<Component> components = new ArrayList<>();
    Map<String, Integer> dependsOnLines = new LinkedHashMap<>();
    Map<String, String> dependsOnPaths = new LinkedHashMap<>();
    Map<String, String> seen = new LinkedHashMap<>();
    // Every component whose id could be read, with its dependsOn, also when other fields are wrong:
    // unknown dependencies and cycles are reported together with everything else.
    Map<String, Component> graph = new LinkedHashMap<>();
    for (Role role : Role.values()) {
      NodeTuple section = spec.get(role.section());
      if (section == null) continue;
      String path = "spec." + role.section();
      if (!(section.getValueNode() instanceof SequenceNode list)) {
        problems.add(
            new PipelineProblem(
                line(section.getValueNode()), path, "must be a list of components"));
        continue;
      }
      for (int i = 0; i < list.getValue().size(); i++) {
        Component c =
            component(
                list.getValue().get(i),
                role,
                path + "[" + i + "]",
                seen,
                dependsOnLines,
                dependsOnPaths,
                graph);
        if (c != null) components.add(c);
      }
    }
    if (components.isEmpty() && problems.isEmpty()) {
      problems.add(
          new PipelineProblem(
              line(specNode),
              "spec",
              "has no components: list some under sources, processors or sinks"));
    }
    if (name != null && seen.containsKey(name)) {
      problems.add(
          new PipelineProblem(
              line(top.get("metadata").getValueNode()),
              "metadata.name",
              "'"
                  + name
                  + "' is also a component id ("
                  + seen.get(name)
                  + "); the pipeline registers as a service of its own"));
    }
    for (Component c : graph.values()) {
      for (int d = 0; d < c.dependsOn().size(); d++) {
        String dep = c.dependsOn().get(d);
        String key = c.id() + "#" + d;
        if (!seen.containsKey(dep)) {
          problems.add(
              new PipelineProblem(
                  dependsOnLines.get(key),
                  dependsOnPaths.get(key),
                  "unknown component '" + dep + "'"));
        } else if (dep.equals(c.id())) {
          problems.add(
              new PipelineProblem(
                  dependsOnLines.get(key),
                  dependsOnPaths.get(key),
                  "a component cannot depend on itself"));
        }
      }
    }
    // Cycles among the dependencies that name real, other components.
    List<Component> knownEdges =
        graph.values().stream()
            .map(
                c ->
                    new Component(
                        c.id(),
                        c.role(),
                        c.command(),
                        c.env(),
                        c.dependsOn().stream()
                            .filter(dep -> graph.containsKey(dep) && !dep.equals(c.id()))
                            .toList(),
                        c.restart(),
                        c.registerTimeout()))
            .toList();
    try {
      StartOrder.of(knownEdges);
    } catch (StartOrder.Cycle cycle) {
      String first = cycle.ids().get(0);
      Component c = graph.get(first);
      int index = c.dependsOn().indexOf(cycle.ids().get(1));
      String key = c.id() + "#" + index;
      problems.add(
          new PipelineProblem(
              dependsOnLines.get(key),
              dependsOnPaths.get(key),
              "dependency cycle: " + String.join(" -> ", cycle.ids())));
    }
    if (!problems.isEmpty()) return null;
    return new PipelineSpec(name, StartOrder.of(components));
  }

  private Component component(
      Node node,
      Role role,
      String path,
      Map<String, String> seen,
      Map<String, Integer> dependsOnLines,
      Map<String, String> dependsOnPaths,
      Map<String, Component> graph) {
    if (!(node instanceof MappingNode map)) {
      problems.add(new PipelineProblem(line(node), path, "must be a mapping with id and command"));
      return null;
    }
    int before = problems.size();
    Map<String, NodeTuple> f = fields(map, path, COMPONENT);
    String id = id(f.get("id"), path + ".id", line(map));
    if (id != null) {
      if (seen.containsKey(id)) {
        problems.add(
            new PipelineProblem(
                line(f.get("id").getValueNode()),
                path + ".id",
                "duplicate id '" + id + "', already used by " + seen.get(id)));
      } else {
        seen.put(id, path);
      }
    }
    List<String> command = strings(f.get("command"), path + ".command");
    if (command == null) {
      if (!f.containsKey("command"))
        problems.add(new PipelineProblem(line(map), path + ".command", "is required"));
    } else if (command.isEmpty()) {
      problems.add(
          new PipelineProblem(
              line(f.get("command").getValueNode()),
              path + ".command",
              "must not be empty: the program and its arguments, e.g. [\"./bin/source\","
                  + " \"--from\", \"latest\"]"));
    }
    Map<String, String> env = env(f.get("env"), path + ".env");
    List<String> dependsOn = strings(f.get("dependsOn"), path + ".dependsOn");
    if (dependsOn != null && id != null) {
      SequenceNode deps = (SequenceNode) f.get("dependsOn").getValueNode();
      for (int d = 0; d < dependsOn.size(); d++) {
        dependsOnLines.put(id + "#" + d, line(deps.getValue().get(d)));
        dependsOnPaths.put(id + "#" + d, path + ".dependsOn[" + d + "]");
      }
    }
    if (id != null && path.equals(seen.get(id))) {
      graph.put(
          id,
          new Component(
              id,
              role,
              List.of(),
              Map.of(),
              dependsOn == null ? List.of() : dependsOn,
              RestartPolicy.NEVER,
              DEFAULT_REGISTER_TIMEOUT));
    }
    RestartPolicy restart = RestartPolicy.NEVER;
    String restartWord = scalar(f.get("restart"), path + ".restart");
    if (restartWord != null) {
      restart =
          Arrays.stream(RestartPolicy.values())
              .filter(r -> r.word().equals(restartWord))
              .findFirst()
              .orElse(null);
      if (restart == null) {
        problems.add(
            new PipelineProblem(
                line(f.get("restart").getValueNode()),
                path + ".restart",
                "must be one of never, on-failure"));
      }
    }
    Duration registerTimeout = DEFAULT_REGISTER_TIMEOUT;
    String timeout = scalar(f.get("registerTimeoutSeconds"), path + ".registerTimeoutSeconds");
    if (timeout != null) {
      int seconds = -1;
      try {
        seconds = Integer.parseInt(timeout);
      } catch (NumberFormatException notANumber) {
        // reported below
      }
      if (seconds < 1 || seconds > 3600) {
        problems.add(
            new PipelineProblem(
                line(f.get("registerTimeoutSeconds").getValueNode()),
                path + ".registerTimeoutSeconds",
                "must be a whole number of seconds from 1 to 3600, got '" + timeout + "'"));
      } else {
        registerTimeout = Duration.ofSeconds(seconds);
      }
    }
    if (problems.size() > before) return null;
    return new Component(
        id,
        role,
        command,
        env,
        dependsOn == null ? List.of() : dependsOn,
        restart,
        registerTimeout);
  }

  // ---------------------------------------------------------------- node helpers, each reporting
  // its own mistakes

  /** The mapping's fields by key; unknown and duplicate keys are problems. */
  private Map<String, NodeTuple> fields(MappingNode map, String path, Set<String> known) {
    Map<String, NodeTuple> fields = new LinkedHashMap<>();
    for (NodeTuple t : map.getValue()) {
      String key = t.getKeyNode() instanceof ScalarNode s ? s.getValue() : null;
      String keyPath = path.isEmpty() ? String.valueOf(key) : path + "." + key;
      if (key == null) {
        problems.add(new PipelineProblem(line(t.getKeyNode()), path, "keys must be plain words"));
      } else if (!known.contains(key)) {
        problems.add(
            new PipelineProblem(
                line(t.getKeyNode()),
                keyPath,
                "unknown key; expected one of "
                    + known.stream().sorted().collect(Collectors.joining(", "))));
      } else if (fields.containsKey(key)) {
        problems.add(new PipelineProblem(line(t.getKeyNode()), keyPath, "appears twice"));
      } else {
        fields.put(key, t);
      }
    }
    return fields;
  }

  private MappingNode mapping(NodeTuple field, String path, int parentLine) {
    if (field == null) {
      problems.add(new PipelineProblem(parentLine, path, "is required"));
      return null;
    }
    if (!(field.getValueNode() instanceof MappingNode m)) {
      problems.add(new PipelineProblem(line(field.getValueNode()), path, "must be a mapping"));
      return null;
    }
    return m;
  }

  /** A scalar's text, or null when the field is absent (no problem) or not a scalar (a problem). */
  private String scalar(NodeTuple field, String path) {
    if (field == null) return null;
    if (!(field.getValueNode() instanceof ScalarNode s)) {
      problems.add(new PipelineProblem(line(field.getValueNode()), path, "must be a single value"));
      return null;
    }
    return s.getValue();
  }

  private void expectWord(
      Map<String, NodeTuple> fields, String key, String parent, String expected, int parentLine) {
    NodeTuple field = fields.get(key);
    String path = parent.isEmpty() ? key : parent + "." + key;
    if (field == null) {
      problems.add(new PipelineProblem(parentLine, path, "is required and must be " + expected));
      return;
    }
    String value = scalar(field, path);
    if (value != null && !value.equals(expected)) {
      problems.add(
          new PipelineProblem(
              line(field.getValueNode()), path, "must be " + expected + ", got '" + value + "'"));
    }
  }

  private String id(NodeTuple field, String path, int parentLine) {
    if (field == null) {
      problems.add(new PipelineProblem(parentLine, path, "is required"));
      return null;
    }
    String value = scalar(field, path);
    if (value == null) return null;
    if (!ID.matcher(value).matches()) {
      problems.add(
          new PipelineProblem(
              line(field.getValueNode()),
              path,
              "'"
                  + value
                  + "' is not a valid id: letters, digits and . _ : - (at most 128), starting with"
                  + " a letter or digit"));
      return null;
    }
    return value;
  }

  /** A list of strings, or null when absent or wrong (then reported). */
  private List<String> strings(NodeTuple field, String path) {
    if (field == null) return null;
    if (!(field.getValueNode() instanceof SequenceNode seq)) {
      problems.add(
          new PipelineProblem(line(field.getValueNode()), path, "must be a list, e.g. [a, b]"));
      return null;
    }
    List<String> values = new ArrayList<>();
    for (int i = 0; i < seq.getValue().size(); i++) {
      Node item = seq.getValue().get(i);
      if (item instanceof ScalarNode s) {
        values.add(s.getValue());
      } else {
        problems.add(
            new PipelineProblem(line(item), path + "[" + i + "]", "must be a single value"));
        return null;
      }
    }
    return values;
  }

  private Map<String, String> env(NodeTuple field, String path) {
    if (field == null) return Map.of();
    if (!(field.getValueNode() instanceof MappingNode map)) {
      problems.add(
          new PipelineProblem(
              line(field.getValueNode()), path, "must be a mapping of NAME: value"));
      return Map.of();
    }
    Map<String, String> env = new LinkedHashMap<>();
    for (NodeTuple t : map.getValue()) {
      String name = t.getKeyNode() instanceof ScalarNode s ? s.getValue() : "";
      if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
        problems.add(
            new PipelineProblem(
                line(t.getKeyNode()), path, "'" + name + "' is not an environment variable name"));
      } else if (name.startsWith("KEEL_")) {
        problems.add(
            new PipelineProblem(
                line(t.getKeyNode()), path + "." + name, "KEEL_* variables are set by keel run"));
      } else if (!(t.getValueNode() instanceof ScalarNode v)) {
        problems.add(
            new PipelineProblem(
                line(t.getValueNode()), path + "." + name, "must be a single value"));
      } else {
        env.put(name, v.getValue());
      }
    }
    return env;
  }

  private static int line(Node node) {
    return node.getStartMark() == null ? 1 : node.getStartMark().getLine() + 1;
  }
}
