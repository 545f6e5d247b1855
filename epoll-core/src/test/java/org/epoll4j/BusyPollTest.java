package org.epoll4j;

import org.epoll4j.internal.LibC;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The EPIOCSPARAMS/EPIOCGPARAMS call path (the speed effect needs a NAPI-capable card, which no test machine here
 * has; loopback shows nothing).
 */
@ExtendWith(FdLeakCheck.class)
@org.junit.jupiter.api.Timeout(30)
class BusyPollTest {
    private static boolean kernelHasIt() throws Exception {
        try (Reactor r = Reactor.open()) {
            return r.busyPoll().isPresent();
        }
    }

    @Test
    void settingsAreReadBackFromTheKernel() throws Exception {
        assumeTrue(kernelHasIt(), "kernel before 6.9: no EPIOCSPARAMS (the fallback test covers it)");
        BusyPoll wanted = BusyPoll.of(Duration.ofNanos(50_000), 16, true);
        try (Reactor r = Reactor.builder().busyPoll(wanted).build()) {
            assertEquals(Optional.of(wanted), r.busyPoll());
            r.poll(Duration.ZERO); // the loop still works with it on
        }
        try (Reactor plain = Reactor.open()) {
            assertEquals(Optional.of(BusyPoll.of(Duration.ZERO, 0, false)), plain.busyPoll());
        }
    }

    @Test
    void aKernelWithoutTheIoctlLeavesTheReactorWithoutIt() throws Exception {
        // EPIOCSPARAMS on an fd that is not an epoll instance answers ENOTTY, as an older kernel does for epoll's
        int eventfd = LibC.eventfd(0, LibC.EFD_CLOEXEC);
        assertTrue(eventfd >= 0);
        try {
            assertFalse(BusyPoll.apply(eventfd, BusyPoll.of(Duration.ofNanos(1000), 8, false)));
            assertEquals(Optional.empty(), BusyPoll.read(eventfd));
        } finally {
            LibC.close(eventfd);
        }
    }

    @Test
    void badValuesFailClearly() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> BusyPoll.of(Duration.ofNanos(1500), 8, false));
        assertThrows(IllegalArgumentException.class, () -> BusyPoll.of(Duration.ofSeconds(-1), 8, false));
        assertThrows(IllegalArgumentException.class, () -> BusyPoll.of(Duration.ZERO, 70_000, false));
    }
}
