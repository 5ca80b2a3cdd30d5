package dev.keel.registry.alert;

import dev.keel.registry.service.ServiceObservation;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * An alert rule's condition over one {@link ServiceObservation}: an immutable, parsed expression.
 *
 * <pre>{@code
 * AlertCondition c = AlertCondition.parse("status != healthy or (metrics.lag_seconds > 30 and metrics.errors >= 1e3)");
 * c.holds(observation);   // evaluated in memory, on every heartbeat
 * c.toString();           // the canonical text, the same for every spelling of the same condition
 * }</pre>
 *
 * <p>Grammar: a comparison is {@code status OP word} (OP {@code ==} or {@code !=}; the word one of
 * {@code healthy}, {@code degraded}, {@code unhealthy}, {@code stale}, bare or quoted) or {@code
 * metrics.<name> OP number} (OP one of {@code == != < <= > >=}; names {@code
 * [A-Za-z_][A-Za-z0-9_.]*}; numbers such as {@code 30}, {@code 0.5}, {@code -1}, {@code 1e3}).
 * Comparisons combine with {@code and} and {@code or} ({@code and} binds tighter) and parentheses.
 * A metric the observation does not carry makes its comparison false, whatever the operator.
 *
 * <p>Equal conditions have equal canonical text; {@code parse(c.toString())} equals {@code c}.
 */
public final class AlertCondition {

  /** Longer texts are refused before parsing. */
  public static final int MAX_LENGTH = 1000;

  /**
   * {@code metrics.a>1e14} (14 characters) reads {@code metrics.a > 100000000000000} (27): under 4
   * times.
   */
  static final int MAX_CANONICAL_LENGTH = 4 * MAX_LENGTH;

  /** Deeper nesting of parentheses is refused. */
  static final int MAX_DEPTH = 32;

  /** The status words a service entity reports. */
  public static final List<String> STATUS_WORDS =
      List.of("healthy", "degraded", "unhealthy", "stale");

  private static final Pattern METRIC_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");
  private static final Pattern NUMBER =
      Pattern.compile("-?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?");
  private static final String METRICS_PREFIX = "metrics.";
  private static final String ALL_OPERATORS = "==, !=, <, <=, >, >=";
  private static final int SHOWN_TOKEN_CHARS = 30;

  private final Expr root;
  private final String canonical;

  private AlertCondition(Expr root) {
    this.root = root;
    this.canonical = root.text();
  }

  /**
   * Parses {@code text}.
   *
   * @throws InvalidConditionException naming the position and what was expected there
   */
  public static AlertCondition parse(String text) {
    return parse(text, MAX_LENGTH);
  }

  /**
   * Parses a canonical text this class wrote ({@link #toString()} of a parsed condition), which may
   * be longer than the client's text was: spaces around operators, numbers written out.
   */
  static AlertCondition parseCanonical(String text) {
    return parse(text, MAX_CANONICAL_LENGTH);
  }

  private static AlertCondition parse(String text, int maxLength) {
    if (text == null)
      throw new InvalidConditionException(0, "a condition is required, e.g. 'status != healthy'");
    if (text.length() > maxLength) {
      throw new InvalidConditionException(0, "is longer than " + maxLength + " characters");
    }
    return new AlertCondition(new Parser(text).parseAll());
  }

  /** Whether the condition holds for {@code observation}. */
  public boolean holds(ServiceObservation observation) {
    return root.holds(observation);
  }

  /** The canonical text: single spaces, bare status words, minimal parentheses, plain numbers. */
  @Override
  public String toString() {
    return canonical;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AlertCondition other && canonical.equals(other.canonical);
  }

  @Override
  public int hashCode() {
    return canonical.hashCode();
  }

  // ---------------------------------------------------------------- expression tree

  enum Op {
    EQ("=="),
    NE("!="),
    LT("<"),
    LE("<="),
    GT(">"),
    GE(">=");

    final String symbol;

    Op(String symbol) {
      this.symbol = symbol;
    }

    static Op of(String symbol) {
      for (Op op : values()) {
        if (op.symbol.equals(symbol)) return op;
      }
      return null;
    }

    boolean test(double left, double right) {
      if (this == EQ) return left == right;
      if (this == NE) return left != right;
      if (this == LT) return left < right;
      if (this == LE) return left <= right;
      if (this == GT) return left > right;
      return left >= right;
    }
  }

  private sealed interface Expr permits StatusComparison, MetricComparison, All, Any {
    boolean holds(ServiceObservation observation);

    String text();
  }

  private record StatusComparison(Op op, String word) implements Expr {
    @Override
    public boolean holds(ServiceObservation o) {
      boolean same = word.equals(o.status());
      return op == Op.EQ ? same : !same;
    }

    @Override
    public String text() {
      return "status " + op.symbol + " " + word;
    }
  }

  private record MetricComparison(String name, Op op, double value) implements Expr {
    MetricComparison {
      value = value + 0.0; // -0.0 and 0.0 are one number, with one text
    }

    @Override
    public boolean holds(ServiceObservation o) {
      Double actual = o.metrics().get(name);
      if (actual == null || actual.isNaN()) return false;
      return op.test(actual, value);
    }

    @Override
    public String text() {
      return METRICS_PREFIX + name + " " + op.symbol + " " + number(value);
    }

    private static String number(double v) {
      if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
      return Double.toString(v);
    }
  }

  /** {@code and}: never directly inside another {@code All}. */
  private record All(List<Expr> parts) implements Expr {
    @Override
    public boolean holds(ServiceObservation o) {
      for (Expr part : parts) {
        if (!part.holds(o)) return false;
      }
      return true;
    }

    @Override
    public String text() {
      List<String> texts = new ArrayList<>();
      for (Expr part : parts)
        texts.add(part instanceof Any ? "(" + part.text() + ")" : part.text());
      return String.join(" and ", texts);
    }
  }

  /** {@code or}: never directly inside another {@code Any}. */
  private record Any(List<Expr> parts) implements Expr {
    @Override
    public boolean holds(ServiceObservation o) {
      for (Expr part : parts) {
        if (part.holds(o)) return true;
      }
      return false;
    }

    @Override
    public String text() {
      List<String> texts = new ArrayList<>();
      for (Expr part : parts) texts.add(part.text());
      return String.join(" or ", texts);
    }
  }

  // ---------------------------------------------------------------- lexer

  private enum Kind {
    WORD,
    STRING,
    OPERATOR,
    OPEN,
    CLOSE,
    END
  }

  /** {@code position} is 1-based; a WORD is a run of letters, digits and {@code _ . + -}. */
  private record Token(Kind kind, String text, int position) {
    String shown() {
      if (kind == Kind.END) return "the end";
      String t = text;
      if (t.length() > SHOWN_TOKEN_CHARS) t = t.substring(0, SHOWN_TOKEN_CHARS) + "…";
      return kind == Kind.STRING ? "\"" + t + "\"" : "'" + t + "'";
    }

    boolean isWord(String word) {
      return kind == Kind.WORD && text.equals(word);
    }
  }

  private static List<Token> tokens(String text) {
    List<Token> tokens = new ArrayList<>();
    int i = 0;
    int n = text.length();
    while (i < n) {
      char c = text.charAt(i);
      int position = i + 1;
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '(') {
        tokens.add(new Token(Kind.OPEN, "(", position));
        i++;
      } else if (c == ')') {
        tokens.add(new Token(Kind.CLOSE, ")", position));
        i++;
      } else if (c == '"' || c == '\'') {
        int end = text.indexOf(c, i + 1);
        if (end < 0)
          throw new InvalidConditionException(
              position, "the text starting with " + c + " is not closed with " + c);
        tokens.add(new Token(Kind.STRING, text.substring(i + 1, end), position));
        i = end + 1;
      } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        boolean twoChars = i + 1 < n && text.charAt(i + 1) == '=';
        String symbol = twoChars ? text.substring(i, i + 2) : String.valueOf(c);
        if (Op.of(symbol) == null) {
          throw new InvalidConditionException(
              position, "unexpected '" + symbol + "'; the operators are " + ALL_OPERATORS);
        }
        tokens.add(new Token(Kind.OPERATOR, symbol, position));
        i += symbol.length();
      } else if (isWordChar(c)) {
        int start = i;
        while (i < n && isWordChar(text.charAt(i))) i++;
        tokens.add(new Token(Kind.WORD, text.substring(start, i), position));
      } else {
        throw new InvalidConditionException(position, "unexpected character '" + c + "'");
      }
    }
    tokens.add(new Token(Kind.END, "", n + 1));
    return tokens;
  }

  private static boolean isWordChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '_'
        || c == '.'
        || c == '-'
        || c == '+';
  }

  // ---------------------------------------------------------------- parser

  /** Recursive descent: or-expression of and-expressions of comparisons or parenthesised groups. */
  private static final class Parser {
    private final List<Token> tokens;
    private int next;
    private int depth;

    Parser(String text) {
      this.tokens = tokens(text);
    }

    Expr parseAll() {
      if (peek().kind() == Kind.END) {
        throw new InvalidConditionException(
            peek().position(),
            "expected a condition such as 'status != healthy' but found the end");
      }
      Expr e = or();
      Token t = peek();
      if (t.kind() != Kind.END) {
        throw new InvalidConditionException(
            t.position(), "expected 'and', 'or' or the end but found " + t.shown());
      }
      return e;
    }

    private Token peek() {
      return tokens.get(next);
    }

    private Token take() {
      return tokens.get(next++);
    }

    private Expr or() {
      List<Expr> parts = new ArrayList<>();
      add(parts, and(), Any.class);
      while (peek().isWord("or")) {
        take();
        add(parts, and(), Any.class);
      }
      return parts.size() == 1 ? parts.get(0) : new Any(List.copyOf(parts));
    }

    private Expr and() {
      List<Expr> parts = new ArrayList<>();
      add(parts, primary(), All.class);
      while (peek().isWord("and")) {
        take();
        add(parts, primary(), All.class);
      }
      return parts.size() == 1 ? parts.get(0) : new All(List.copyOf(parts));
    }

    /** Flattens {@code a and (b and c)} into one list, so that equal conditions have one form. */
    private static void add(List<Expr> parts, Expr e, Class<? extends Expr> same) {
      if (same == All.class && e instanceof All all) {
        parts.addAll(all.parts());
      } else if (same == Any.class && e instanceof Any any) {
        parts.addAll(any.parts());
      } else {
        parts.add(e);
      }
    }

    private Expr primary() {
      Token t = take();
      if (t.kind() == Kind.OPEN) {
        if (++depth > MAX_DEPTH) {
          throw new InvalidConditionException(
              t.position(), "parentheses nested deeper than " + MAX_DEPTH);
        }
        Expr inner = or();
        Token close = take();
        if (close.kind() != Kind.CLOSE) {
          throw new InvalidConditionException(
              close.position(),
              "expected ')' to close the '(' at " + t.position() + " but found " + close.shown());
        }
        depth--;
        return inner;
      }
      if (t.isWord("status")) return status(t);
      if (t.kind() == Kind.WORD && t.text().startsWith(METRICS_PREFIX)) return metric(t);
      throw new InvalidConditionException(
          t.position(), "expected 'status', 'metrics.<name>' or '(' but found " + t.shown());
    }

    private Expr status(Token subject) {
      Token opToken = take();
      if (opToken.kind() != Kind.OPERATOR) {
        throw new InvalidConditionException(
            opToken.position(),
            "expected '==' or '!=' after 'status' but found " + opToken.shown());
      }
      Op op = Op.of(opToken.text());
      if (op != Op.EQ && op != Op.NE) {
        throw new InvalidConditionException(
            opToken.position(),
            "'status' can only be compared with == or !=, not '" + opToken.text() + "'");
      }
      Token value = take();
      if (value.kind() != Kind.WORD && value.kind() != Kind.STRING) {
        throw new InvalidConditionException(
            value.position(),
            "expected a status ("
                + String.join(", ", STATUS_WORDS)
                + ") after '"
                + op.symbol
                + "' but found "
                + value.shown());
      }
      if (!STATUS_WORDS.contains(value.text())) {
        throw new InvalidConditionException(
            value.position(),
            "unknown status "
                + value.shown()
                + "; expected one of "
                + String.join(", ", STATUS_WORDS));
      }
      return new StatusComparison(op, value.text());
    }

    private Expr metric(Token subject) {
      String name = subject.text().substring(METRICS_PREFIX.length());
      if (!METRIC_NAME.matcher(name).matches()) {
        throw new InvalidConditionException(
            subject.position() + METRICS_PREFIX.length(),
            "expected a metric name ([A-Za-z_][A-Za-z0-9_.]*) after 'metrics.' but found "
                + (name.isEmpty() ? "nothing" : "'" + shorten(name) + "'"));
      }
      Token opToken = take();
      if (opToken.kind() != Kind.OPERATOR) {
        throw new InvalidConditionException(
            opToken.position(),
            "expected an operator ("
                + ALL_OPERATORS
                + ") after '"
                + shorten(subject.text())
                + "' but found "
                + opToken.shown());
      }
      Op op = Op.of(opToken.text());
      Token value = take();
      if (value.kind() != Kind.WORD || !NUMBER.matcher(value.text()).matches()) {
        throw new InvalidConditionException(
            value.position(),
            "expected a number after '" + op.symbol + "' but found " + value.shown());
      }
      double number = Double.parseDouble(value.text());
      if (Double.isInfinite(number)) {
        throw new InvalidConditionException(
            value.position(), "the number " + value.shown() + " is out of range");
      }
      return new MetricComparison(name, op, number);
    }

    private static String shorten(String s) {
      return s.length() > SHOWN_TOKEN_CHARS ? s.substring(0, SHOWN_TOKEN_CHARS) + "…" : s;
    }
  }
}
