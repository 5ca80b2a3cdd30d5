package dev.keel.persistence.grammar;

import java.net.IDN;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What a custom hostname may be, and its one spelling: trimmed, lower-case, without the trailing
 * dot, internationalised labels in punycode ({@code bücher.example} → {@code
 * xn--bcher-kva.example}). The normalised name is the hostname entity's id, so that two spellings
 * of one name are one claim.
 *
 * <pre>{@code
 * Hostnames.normalise(" Shop.Example.COM. ", "tenants.keel.dev")  // "shop.example.com"
 * Hostnames.normalise("acme.tenants.keel.dev", "tenants.keel.dev") // InvalidHostnameException
 * Hostnames.normalise("example.test\u0000", null)                  // InvalidHostnameException
 * }</pre>
 *
 * Only spaces around a name are trimmed: a control character anywhere is refused, so that {@code
 * "example.test\u0000"} never claims {@code example.test}.
 */
public final class Hostnames {

  /** The longest DNS name in its text form (RFC 1035: 255 octets on the wire). */
  public static final int MAX_LENGTH = 253;

  public static final int MAX_LABEL_LENGTH = 63;

  /** Longer input is refused before any work on it. */
  private static final int MAX_INPUT_LENGTH = 1024;

  private static final Pattern LABEL = Pattern.compile("[a-z0-9-]+");
  private static final Pattern DIGITS = Pattern.compile("[0-9]+");
  private static final Pattern IPV4 = Pattern.compile("[0-9]+(\\.[0-9]+){3}");

  /** Full stops that IDNA treats as label separators (ideographic, full-width, half-width). */
  private static final Pattern DOTS = Pattern.compile("[.\u3002\uFF0E\uFF61]");

  /** A hostname that cannot be claimed; the message says why, for the {@code hostname} field. */
  public static final class InvalidHostnameException extends IllegalArgumentException {
    public InvalidHostnameException(String message) {
      super(message);
    }
  }

  private Hostnames() {}

  /**
   * The normalised form of {@code raw}, checked to be a hostname a tenant may claim: not an IP
   * address, no wildcard, and neither {@code rootDomain} (where tenants' default domains live) nor
   * a name under it.
   *
   * @throws InvalidHostnameException saying what is wrong
   */
  public static String normalise(String raw, String rootDomain) {
    String name = syntax(raw);
    String root = rootDomain == null || rootDomain.isBlank() ? null : syntax(rootDomain);
    if (root != null && (name.equals(root) || name.endsWith("." + root))) {
      throw new InvalidHostnameException(
          "'"
              + name
              + "' is under "
              + root
              + ", where every tenant's default domain lives; claim a domain of your own");
    }
    return name;
  }

  /**
   * The normalised form of a DNS name with the same rules but no root-domain check: for the root
   * domain itself, in configuration.
   *
   * @throws InvalidHostnameException saying what is wrong
   */
  public static String syntax(String raw) {
    if (raw == null || raw.isBlank()) throw new InvalidHostnameException("is required");
    if (raw.length() > MAX_INPUT_LENGTH)
      throw new InvalidHostnameException("is longer than " + MAX_LENGTH + " characters");
    Texts.characterProblem(raw, false)
        .ifPresent(
            problem -> {
              throw new InvalidHostnameException(problem);
            });
    String s = raw.strip();
    if (s.contains("*"))
      throw new InvalidHostnameException(
          "wildcards are not allowed; claim each hostname on its own");
    if (s.startsWith("[") || s.indexOf(':') >= 0) {
      throw new InvalidHostnameException(
          "'" + s + "' is an IP address or has a port; give a hostname such as shop.example.com");
    }
    if (s.endsWith(".") || s.endsWith("\u3002") || s.endsWith("\uFF0E") || s.endsWith("\uFF61")) {
      s = s.substring(0, s.length() - 1); // the root's dot: "example.com." is "example.com"
    }
    if (s.isEmpty()) throw new InvalidHostnameException("is not a hostname: it has no labels");
    String[] rawLabels = DOTS.split(s, -1);
    List<String> labels = new ArrayList<>(rawLabels.length);
    for (String rawLabel : rawLabels) labels.add(label(rawLabel));
    String name = String.join(".", labels);
    if (IPV4.matcher(name).matches()) {
      throw new InvalidHostnameException(
          "'" + name + "' is an IP address; give a hostname such as shop.example.com");
    }
    if (name.length() > MAX_LENGTH) {
      throw new InvalidHostnameException(
          "is "
              + name.length()
              + " characters long (in its ASCII form); at most "
              + MAX_LENGTH
              + " are allowed");
    }
    if (labels.size() < 2) {
      throw new InvalidHostnameException(
          "'" + name + "' has a single label; give a full hostname such as shop.example.com");
    }
    String tld = labels.get(labels.size() - 1);
    if (DIGITS.matcher(tld).matches()) {
      throw new InvalidHostnameException(
          "the top-level label '" + tld + "' is all digits; no top-level domain is");
    }
    return name;
  }

  /** One label in its ASCII form, checked. */
  private static String label(String raw) {
    if (raw.isEmpty())
      throw new InvalidHostnameException(
          "has an empty label (two dots in a row, or a leading dot)");
    if (raw.length() > MAX_INPUT_LENGTH)
      throw new InvalidHostnameException(
          "has a label longer than " + MAX_LABEL_LENGTH + " characters");
    String label;
    if (raw.chars().allMatch(c -> c < 0x80)) {
      label = raw.toLowerCase(Locale.ROOT);
    } else {
      try {
        // IDNA 2003 (the JDK's): nameprep maps case and compatibility forms, then punycode.
        label = IDN.toASCII(raw, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
      } catch (IllegalArgumentException e) {
        String why = e.getMessage() == null ? "" : e.getMessage();
        if (why.contains("too long")) {
          throw new InvalidHostnameException(
              "the label '"
                  + abbreviate(raw)
                  + "' is longer than "
                  + MAX_LABEL_LENGTH
                  + " characters in its ASCII (punycode) form; at most "
                  + MAX_LABEL_LENGTH
                  + " are allowed");
        }
        throw new InvalidHostnameException(
            "the label '" + abbreviate(raw) + "' is not a valid internationalised label");
      }
    }
    if (label.isEmpty())
      throw new InvalidHostnameException("the label '" + raw + "' is empty once normalised");
    if (label.length() > MAX_LABEL_LENGTH) {
      throw new InvalidHostnameException(
          "the label '"
              + abbreviate(label)
              + "' is "
              + label.length()
              + " characters long; at most "
              + MAX_LABEL_LENGTH
              + " are allowed");
    }
    if (!LABEL.matcher(label).matches()) {
      throw new InvalidHostnameException(
          "the label '" + abbreviate(raw) + "' may hold only letters, digits and hyphens");
    }
    if (label.startsWith("-") || label.endsWith("-")) {
      throw new InvalidHostnameException("the label '" + label + "' starts or ends with a hyphen");
    }
    if (label.startsWith("xn--") && IDN.toUnicode(label, IDN.USE_STD3_ASCII_RULES).equals(label)) {
      // toUnicode answers its input unchanged when the punycode does not decode.
      throw new InvalidHostnameException("the label '" + label + "' is not valid punycode");
    }
    return label;
  }

  private static String abbreviate(String s) {
    return s.length() <= 70 ? s : s.substring(0, 67) + "...";
  }
}
