package dev.keel.registry.service;

/**
 * The port through which a service entity reports its health to whatever watches it (the alert
 * rules), so that the entity knows nothing of alerts and tests can record what it reports.
 *
 * <p>Called on the entity's own thread after every heartbeat, every status transition and when the
 * entity comes back after recovery; implementations must not block and must tolerate being told the
 * same thing many times (they are told on every heartbeat).
 */
public interface ServiceObserver {

  /** The service's health now. */
  void observe(ServiceObservation observation);

  /** The service was deregistered (by a client or automatically): forget what was known of it. */
  void gone(String serviceId, String tenantId);

  /** Watches nothing. */
  ServiceObserver NONE =
      new ServiceObserver() {
        @Override
        public void observe(ServiceObservation observation) {}

        @Override
        public void gone(String serviceId, String tenantId) {}
      };
}
