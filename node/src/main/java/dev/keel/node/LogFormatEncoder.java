package dev.keel.node;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.encoder.EncoderBase;

/**
 * The encoder {@code logback.xml} configures: writes through its {@code text} or its {@code json}
 * encoder, as {@code format} ({@link LogFormat}) says. One appender with a chosen encoder, rather
 * than two appenders of which one is always left unused (which logback reports on every start).
 */
public final class LogFormatEncoder extends EncoderBase<ILoggingEvent> {

  private String format = "text";
  private Encoder<ILoggingEvent> text;
  private Encoder<ILoggingEvent> json;
  private Encoder<ILoggingEvent> chosen;

  public void setFormat(String format) {
    this.format = format;
  }

  public void setText(Encoder<ILoggingEvent> text) {
    this.text = text;
  }

  public void setJson(Encoder<ILoggingEvent> json) {
    this.json = json;
  }

  @Override
  public void start() {
    chosen = "json".equalsIgnoreCase(format == null ? "" : format.trim()) ? json : text;
    if (chosen == null) {
      addError("no " + format + " encoder configured");
      return;
    }
    if (!chosen.isStarted()) chosen.start();
    super.start();
  }

  @Override
  public void stop() {
    if (chosen != null) chosen.stop();
    super.stop();
  }

  @Override
  public byte[] headerBytes() {
    return chosen.headerBytes();
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    return chosen.encode(event);
  }

  @Override
  public byte[] footerBytes() {
    return chosen.footerBytes();
  }
}
