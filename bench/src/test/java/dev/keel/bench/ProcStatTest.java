package dev.keel.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProcStatTest {

  @Test
  void utimePlusStimeOfAProcessLine() {
    // From a java process: utime 1500 (field 14), stime 250 (field 15).
    String line =
        "10536 (java) S 1 10535 10535 0 -1 4194560 95624 0 1 0 1500 250 0 0 20 0 61 0 231887"
            + " 4785106944 143062 18446744073709551615 1 1 0 0 0 0 0 4096 16899 0 0 0 17 1 0 0 0 0"
            + " 0\n";

    assertThat(ProcStat.processTicks(line)).isEqualTo(1750);
  }

  @Test
  void aCommandNameWithSpacesAndParenthesesDoesNotShiftTheFields() {
    String line = "77 (my (odd) name) R 1 77 77 0 -1 0 0 0 0 0 42 8 0 0 20 0 1 0 100 0 0";

    assertThat(ProcStat.processTicks(line)).isEqualTo(50);
  }

  @Test
  void somethingElseIsRefused() {
    assertThatThrownBy(() -> ProcStat.processTicks("no parentheses here"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ProcStat.processTicks("1 (x) S 1 2")).hasMessageContaining("fields");
    assertThatThrownBy(() -> ProcStat.processTicks("1 (x) S 1 2 3 4 5 6 7 8 9 10 u s"))
        .hasMessageContaining("utime is not a number");
  }

  @Test
  void theMachineLineCountsIdleAndIoWaitAsNotBusy() {
    String stat =
        """
        cpu  27545 0 6239 89885 436 0 141 1205 0 0
        cpu0 13284 0 2552 46267 48 0 17 599 0 0
        intr 447152 0 0
        """;

    ProcStat.MachineTicks ticks = ProcStat.machineTicks(stat);

    // user nice system idle iowait irq softirq steal; guest is already in user.
    assertThat(ticks.total()).isEqualTo(27545 + 6239 + 89885 + 436 + 141 + 1205);
    assertThat(ticks.busy()).isEqualTo(27545 + 6239 + 141 + 1205);
    assertThatThrownBy(() -> ProcStat.machineTicks("intr 1 2 3"))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void ticksBecomePercentOfOneCore() {
    // 100 ticks a second: 1500 ticks in 10 s is 1.5 cores busy.
    assertThat(ProcStat.percentOfOneCore(1500, 100, 10_000_000_000L)).isEqualTo(150.0);
    assertThat(ProcStat.percentOfOneCore(0, 100, 10_000_000_000L)).isZero();
    assertThat(ProcStat.percentOfOneCore(10, 100, 0)).isZero();
  }
}
