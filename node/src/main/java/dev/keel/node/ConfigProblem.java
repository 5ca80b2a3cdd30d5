package dev.keel.node;

/** Start-up cannot go on because of one setting; printed as one line naming it, exit code 2. */
public final class ConfigProblem extends RuntimeException {
  private final String setting;

  public ConfigProblem(String setting, String message) {
    super(message);
    this.setting = setting;
  }

  public String setting() {
    return setting;
  }

  public String line() {
    return line(setting);
  }

  /** The line naming the setting as {@code name}, e.g. the flag that gave the value. */
  public String line(String name) {
    return "keel: " + name + ": " + getMessage();
  }
}
