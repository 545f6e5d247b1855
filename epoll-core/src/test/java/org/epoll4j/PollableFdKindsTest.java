package org.epoll4j;

import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Any pollable fd registers, unlike with java.nio.channels.Selector: timerfd, eventfd, pipe and socketpair. */
@Timeout(20)
@ExtendWith(FdLeakCheck.class)
class PollableFdKindsTest {
    @Test
    void periodicTimerfdFiresRepeatedly() throws Exception {
        int tfd = LibC.timerfd_create(LibC.CLOCK_MONOTONIC, LibC.TFD_NONBLOCK | LibC.TFD_CLOEXEC);
        assertTrue(tfd >= 0, "timerfd_create");
        ByteBuffer spec = NativeMemory.allocate(32);
        spec.putLong(0, 0).putLong(8, 2_000_000)    // it_interval: 2 ms
            .putLong(16, 0).putLong(24, 2_000_000); // it_value: first expiry in 2 ms
        ByteBuffer expirations = NativeMemory.allocate(8);
        long expAddr = NativeMemory.address(expirations);
        List<Long> fired = new ArrayList<>();
        try (Reactor reactor = Reactor.open()) {
            reactor.register(tfd, Interest.READ, TriggerMode.LEVEL, (reg, ready) -> {
                assertTrue(ready.isReadable());
                assertEquals(8, LibC.read(reg.fd(), expAddr, 8)); // reading resets the level
                fired.add(expirations.getLong(0));
            });
            assertEquals(0, LibC.timerfd_settime(tfd, 0, NativeMemory.address(spec), 0L), "timerfd_settime");
            while (fired.size() < 5) {
                reactor.poll(Duration.ofSeconds(5));
            }
            assertTrue(fired.stream().allMatch(n -> n >= 1), "each read reports at least one expiration: " + fired);
        } finally {
            LibC.close(tfd);
        }
    }

    @Test
    void eachKindOnOneReactor() throws Exception {
        int efd = Fds.eventfd();
        int[] pipe = Fds.pipe();
        int[] pair = Fds.socketpair();
        int tfd = LibC.timerfd_create(LibC.CLOCK_MONOTONIC, LibC.TFD_NONBLOCK | LibC.TFD_CLOEXEC);
        ByteBuffer spec = NativeMemory.allocate(32).putLong(24, 1_000_000); // one shot in 1 ms
        List<String> seen = new ArrayList<>();
        try (Reactor reactor = Reactor.open()) {
            reactor.register(efd, Interest.READ, TriggerMode.EDGE, (r, ready) -> seen.add("eventfd"));
            reactor.register(pipe[0], Interest.READ, TriggerMode.EDGE, (r, ready) -> seen.add("pipe"));
            reactor.register(pair[0], Interest.READ, TriggerMode.EDGE, (r, ready) -> seen.add("socketpair"));
            reactor.register(tfd, Interest.READ, TriggerMode.EDGE, (r, ready) -> seen.add("timerfd"));
            Fds.signal(efd, 1);
            Fds.writeFully(pipe[1], new byte[]{1});
            Fds.writeFully(pair[1], new byte[]{2});
            assertEquals(0, LibC.timerfd_settime(tfd, 0, NativeMemory.address(spec), 0L));
            while (seen.size() < 4) {
                reactor.poll(Duration.ofSeconds(5));
            }
            assertEquals(List.of("eventfd", "pipe", "socketpair", "timerfd"), seen.stream().sorted().toList());
        } finally {
            Fds.close(efd, pipe[0], pipe[1], pair[0], pair[1], tfd);
        }
    }
}
