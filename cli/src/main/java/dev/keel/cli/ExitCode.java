package dev.keel.cli;

/** Exit codes of the client commands, the same for all of them (and written in each one's help). */
final class ExitCode {

  /** Done; for {@code keel health}: the service is healthy. */
  static final int OK = 0;

  /** Keel said no: an unknown id, bad input, a conflict; for {@code keel health}: not healthy. */
  static final int NO = 1;

  /**
   * Keel could not be asked: usage error, no token, refused token, connection failure, node not
   * ready.
   */
  static final int TROUBLE = 2;

  private ExitCode() {}
}
