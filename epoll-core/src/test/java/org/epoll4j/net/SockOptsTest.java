package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.epoll4j.net.SockOpt.*;
import static org.junit.jupiter.api.Assertions.*;

@Timeout(10)
class SockOptsTest {
    private final List<Integer> open = new ArrayList<>();

    private int tcpSocket() {
        int fd = LibC.socket(LibC.AF_INET, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        assertTrue(fd >= 0, () -> "socket: " + Errno.describe(LibC.errno()));
        open.add(fd);
        return fd;
    }

    private void close(int fd) {
        assertEquals(0, LibC.close(fd), () -> "close(" + fd + "): " + Errno.describe(LibC.errno()));
        open.remove(Integer.valueOf(fd));
    }

    @AfterEach
    void closeEverything() {
        for (int fd : List.copyOf(open)) {
            close(fd);
        }
    }

    private static <T> void roundTrip(int fd, SockOpt<T> option, T value) throws EpollException {
        SockOpts.empty().with(option, value).applyTo(fd);
        assertEquals(value, SockOpts.read(fd, option), option.name());
    }

    @Test
    void booleanOptionsRoundTrip() throws Exception {
        int fd = tcpSocket();
        for (SockOpt<Boolean> o : List.of(TCP_NODELAY, SO_KEEPALIVE, SO_REUSEADDR, SO_REUSEPORT)) {
            roundTrip(fd, o, true);
            roundTrip(fd, o, false);
            roundTrip(fd, o, true);
        }
    }

    @Test
    void keepAliveTimingRoundTrips() throws Exception {
        int fd = tcpSocket();
        roundTrip(fd, TCP_KEEPIDLE, Duration.ofSeconds(30));
        roundTrip(fd, TCP_KEEPIDLE, Duration.ofSeconds(1));
        roundTrip(fd, TCP_KEEPIDLE, Duration.ofSeconds(32767));
        roundTrip(fd, TCP_KEEPINTVL, Duration.ofSeconds(5));
        roundTrip(fd, TCP_KEEPINTVL, Duration.ofSeconds(32767));
        roundTrip(fd, TCP_KEEPCNT, 1);
        roundTrip(fd, TCP_KEEPCNT, 4);
        roundTrip(fd, TCP_KEEPCNT, 127);
    }

    @Test
    void bufferSizesReadBackDoubled() throws Exception {
        int fd = tcpSocket();
        SockOpts.empty().with(SO_RCVBUF, 8192).with(SO_SNDBUF, 16384).applyTo(fd);
        assertEquals(2 * 8192, SockOpts.read(fd, SO_RCVBUF));
        assertEquals(2 * 16384, SockOpts.read(fd, SO_SNDBUF));
    }

    @Test
    void lingerOnZeroAndOff() throws Exception {
        int fd = tcpSocket();
        assertEquals(LINGER_OFF, SockOpts.read(fd, SO_LINGER), "default is off");
        roundTrip(fd, SO_LINGER, Duration.ofSeconds(5));
        roundTrip(fd, SO_LINGER, Duration.ZERO);
        roundTrip(fd, SO_LINGER, LINGER_OFF);
        roundTrip(fd, SO_LINGER, Duration.ofSeconds(32767));
    }

    @Test
    void userTimeoutRoundTrips() throws Exception {
        int fd = tcpSocket();
        roundTrip(fd, TCP_USER_TIMEOUT, Duration.ofMillis(1500));
        roundTrip(fd, TCP_USER_TIMEOUT, Duration.ofSeconds(30));
        roundTrip(fd, TCP_USER_TIMEOUT, Duration.ZERO);
    }

    @Test
    void applyAllAtOnceThenReadEach() throws Exception {
        int fd = tcpSocket();
        SockOpts all = SockOpts.empty()
                .with(TCP_NODELAY, true)
                .with(SO_KEEPALIVE, true)
                .with(TCP_KEEPIDLE, Duration.ofSeconds(30))
                .with(TCP_KEEPINTVL, Duration.ofSeconds(10))
                .with(TCP_KEEPCNT, 3)
                .with(SO_REUSEADDR, true)
                .with(SO_REUSEPORT, true)
                .with(SO_RCVBUF, 32768)
                .with(SO_SNDBUF, 32768)
                .with(SO_LINGER, Duration.ofSeconds(2))
                .with(TCP_USER_TIMEOUT, Duration.ofMillis(2500))
                .with(TCP_FASTOPEN, 16)
                .with(TCP_FASTOPEN_CONNECT, true)
                .with(TCP_DEFER_ACCEPT, Duration.ofSeconds(3))
                .with(TCP_QUICKACK, true)
                .with(TCP_NOTSENT_LOWAT, 16384)
                .with(IP_TOS, 0x10)
                .with(IP_FREEBIND, true)
                .with(SO_PREFER_BUSY_POLL, true)
                .with(SO_INCOMING_CPU, 0);
        for (SockOpt<?> o : SockOpt.values()) {
            // an IPv4 socket: IPV6_V6ONLY has its own test, and so have the two that need CAP_NET_ADMIN
            assertTrue(all.contains(o) || o == IPV6_V6ONLY || o == IP_TRANSPARENT || o == SO_BUSY_POLL, o.name());
        }
        all.applyTo(fd);
        for (SockOpt<?> o : SockOpt.values()) {
            Object expected = all.get(o);
            if (!all.contains(o)) {
                continue;
            }
            if (o == SO_RCVBUF || o == SO_SNDBUF) {
                expected = 2 * (Integer) expected;
            }
            if (o == TCP_DEFER_ACCEPT) {
                // kept as a count of SYN-ACK retransmissions (1 s, then doubling): 3 s reads back as the next step
                assertTrue(((Duration) SockOpts.read(fd, o)).compareTo(Duration.ofSeconds(3)) >= 0);
                continue;
            }
            assertEquals(expected, SockOpts.read(fd, o), o.name());
        }
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of(TCP_KEEPCNT, 0, "TCP_KEEPCNT must be 1..127: 0"),
                Arguments.of(TCP_KEEPCNT, 128, "TCP_KEEPCNT must be 1..127: 128"),
                Arguments.of(TCP_KEEPCNT, -1, "TCP_KEEPCNT must be 1..127: -1"),
                Arguments.of(TCP_KEEPIDLE, Duration.ZERO, "TCP_KEEPIDLE must be whole seconds 1..32767: 0s"),
                Arguments.of(TCP_KEEPIDLE, Duration.ofSeconds(32768),
                        "TCP_KEEPIDLE must be whole seconds 1..32767: 32768s"),
                Arguments.of(TCP_KEEPIDLE, Duration.ofMillis(1500),
                        "TCP_KEEPIDLE must be whole seconds 1..32767: 1500ms"),
                Arguments.of(TCP_KEEPINTVL, Duration.ofSeconds(-3),
                        "TCP_KEEPINTVL must be whole seconds 1..32767: -3s"),
                Arguments.of(SO_RCVBUF, 0, "SO_RCVBUF must be 1..2147483647: 0"),
                Arguments.of(SO_SNDBUF, -4096, "SO_SNDBUF must be 1..2147483647: -4096"),
                Arguments.of(SO_LINGER, Duration.ofSeconds(-5),
                        "SO_LINGER must be whole seconds 0..32767 or SockOpt.LINGER_OFF: -5s"),
                Arguments.of(SO_LINGER, Duration.ofMillis(500),
                        "SO_LINGER must be whole seconds 0..32767 or SockOpt.LINGER_OFF: 500ms"),
                Arguments.of(SO_LINGER, Duration.ofSeconds(32768),
                        "SO_LINGER must be whole seconds 0..32767 or SockOpt.LINGER_OFF: 32768s"),
                Arguments.of(TCP_USER_TIMEOUT, Duration.ofMillis(-1),
                        "TCP_USER_TIMEOUT must be whole milliseconds 0..2147483647: -1ms"),
                Arguments.of(TCP_USER_TIMEOUT, Duration.ofNanos(1500),
                        "TCP_USER_TIMEOUT must be whole milliseconds 0..2147483647: PT0.0000015S"),
                Arguments.of(TCP_USER_TIMEOUT, Duration.ofMillis(Integer.MAX_VALUE + 1L),
                        "TCP_USER_TIMEOUT must be whole milliseconds 0..2147483647: 2147483648ms"),
                Arguments.of(TCP_USER_TIMEOUT, Duration.ofSeconds(Long.MAX_VALUE),
                        "TCP_USER_TIMEOUT must be whole milliseconds 0..2147483647: "
                                + Long.MAX_VALUE + "s"));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    @ParameterizedTest
    @MethodSource("badValues")
    void badValuesAreRejectedClearly(SockOpt option, Object value, String message) {
        SockOpts base = SockOpts.empty().with(TCP_NODELAY, true);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> base.with(option, value));
        assertEquals(message, e.getMessage());
        assertFalse(base.contains(option));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    @Test
    void wrongTypeThroughRawUseIsRejected() {
        SockOpt raw = TCP_KEEPCNT;
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> SockOpts.empty().with(raw, "3"));
        assertEquals("TCP_KEEPCNT takes Integer values, not java.lang.String: 3", e.getMessage());
    }

    @Test
    void nullsAreRejected() {
        NullPointerException e =
                assertThrows(NullPointerException.class, () -> SockOpts.empty().with(TCP_KEEPIDLE, null));
        assertTrue(e.getMessage().contains("TCP_KEEPIDLE"), e.getMessage());
        assertThrows(NullPointerException.class, () -> SockOpts.empty().with(null, 1));
        assertThrows(NullPointerException.class, () -> SockOpts.empty().merge(null));
    }

    @Test
    void applyToClosedFdFailsWithEbadf() {
        int fd = tcpSocket();
        close(fd);
        SockOpts opts = SockOpts.empty().with(TCP_KEEPIDLE, Duration.ofSeconds(30));
        EpollException e = assertThrows(EpollException.class, () -> opts.applyTo(fd));
        assertEquals(Errno.EBADF, e.errno());
        assertEquals("EBADF", e.errnoName());
        assertEquals("setsockopt(fd=" + fd + ", TCP_KEEPIDLE=30s)", e.call());
        assertEquals("setsockopt(fd=" + fd + ", TCP_KEEPIDLE=30s): EBADF (Bad file descriptor)", e.getMessage());

        EpollException r = assertThrows(EpollException.class, () -> SockOpts.read(fd, SO_LINGER));
        assertEquals(Errno.EBADF, r.errno());
        assertEquals("getsockopt(fd=" + fd + ", SO_LINGER): EBADF (Bad file descriptor)", r.getMessage());
    }

    @Test
    void lingerOffIsNamedInMessages() {
        int fd = tcpSocket();
        close(fd);
        SockOpts opts = SockOpts.empty().with(SO_LINGER, LINGER_OFF);
        EpollException e = assertThrows(EpollException.class, () -> opts.applyTo(fd));
        assertEquals("setsockopt(fd=" + fd + ", SO_LINGER=off)", e.call());
    }

    @Test
    void tcpOptionOnUnixSocketFailsNamingTheCall() throws Exception {
        ByteBuffer pair = NativeMemory.allocate(8);
        assertEquals(0, LibC.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0,
                NativeMemory.address(pair)));
        int a = pair.getInt(0);
        int b = pair.getInt(4);
        open.add(a);
        open.add(b);
        EpollException e = assertThrows(EpollException.class,
                () -> SockOpts.empty().with(TCP_NODELAY, true).applyTo(a));
        assertTrue(e.errno() == Errno.EOPNOTSUPP || e.errno() == Errno.ENOPROTOOPT, e.getMessage());
        assertEquals("setsockopt(fd=" + a + ", TCP_NODELAY=true)", e.call());
        // a SOL_SOCKET option works on any socket
        roundTrip(b, SO_REUSEADDR, true);
    }

    @Test
    void negativeFdIsMisuse() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SockOpts.empty().with(TCP_NODELAY, true).applyTo(-1));
        assertEquals("fd must be >= 0: -1", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SockOpts.read(-1, TCP_NODELAY));
    }

    @Test
    void emptySetMakesNoCalls() throws Exception {
        int fd = tcpSocket();
        close(fd);
        SockOpts.empty().applyTo(fd); // no setsockopt, so no EBADF
        assertTrue(SockOpts.empty().isEmpty());
    }

    @Test
    void withIsImmutable() {
        SockOpts empty = SockOpts.empty();
        SockOpts a = empty.with(TCP_NODELAY, true);
        SockOpts b = a.with(TCP_KEEPCNT, 5);
        SockOpts c = b.with(TCP_KEEPCNT, 7);

        assertNotSame(empty, a);
        assertTrue(empty.isEmpty());
        assertFalse(empty.contains(TCP_NODELAY));
        assertNull(empty.get(TCP_NODELAY));

        assertEquals(Boolean.TRUE, a.get(TCP_NODELAY));
        assertFalse(a.contains(TCP_KEEPCNT));
        assertNull(a.get(TCP_KEEPCNT));

        assertEquals(5, b.get(TCP_KEEPCNT));
        assertEquals(7, c.get(TCP_KEEPCNT));
        assertEquals(Boolean.TRUE, c.get(TCP_NODELAY));
        assertSame(c, c.with(TCP_KEEPCNT, 7), "setting the same value returns the same set");
        assertSame(empty, SockOpts.empty());
    }

    @Test
    void mergeOverridesWinAndNeitherSideChanges() {
        SockOpts defaults = SockOpts.empty()
                .with(TCP_NODELAY, true)
                .with(TCP_KEEPIDLE, Duration.ofSeconds(60));
        SockOpts overrides = SockOpts.empty()
                .with(TCP_KEEPIDLE, Duration.ofSeconds(10))
                .with(SO_LINGER, Duration.ZERO);
        SockOpts merged = defaults.merge(overrides);

        assertEquals(Boolean.TRUE, merged.get(TCP_NODELAY));
        assertEquals(Duration.ofSeconds(10), merged.get(TCP_KEEPIDLE));
        assertEquals(Duration.ZERO, merged.get(SO_LINGER));
        assertEquals(Duration.ofSeconds(60), defaults.get(TCP_KEEPIDLE));
        assertFalse(defaults.contains(SO_LINGER));
        assertFalse(overrides.contains(TCP_NODELAY));
        assertSame(defaults, defaults.merge(SockOpts.empty()));
        assertSame(overrides, SockOpts.empty().merge(overrides));
        assertEquals("SockOpts{TCP_NODELAY=true, TCP_KEEPIDLE=10s, SO_LINGER=0s}", merged.toString());
    }

    @Test
    void equalityAndToString() {
        SockOpts x = SockOpts.empty().with(TCP_KEEPCNT, 3).with(TCP_NODELAY, true);
        SockOpts y = SockOpts.empty().with(TCP_NODELAY, true).with(TCP_KEEPCNT, 3);
        assertEquals(x, y);
        assertEquals(x.hashCode(), y.hashCode());
        assertNotEquals(x, y.with(TCP_KEEPCNT, 4));
        assertEquals("SockOpts{TCP_NODELAY=true, TCP_KEEPCNT=3}", x.toString());
        assertEquals("SockOpts{}", SockOpts.empty().toString());
        assertEquals("SockOpts{SO_LINGER=off, TCP_USER_TIMEOUT=1500ms}", SockOpts.empty()
                .with(SO_LINGER, LINGER_OFF).with(TCP_USER_TIMEOUT, Duration.ofMillis(1500)).toString());
    }

    @Test
    void optionMetadata() {
        assertEquals(23, SockOpt.values().size());
        assertEquals("TCP_KEEPIDLE", TCP_KEEPIDLE.name());
        assertEquals("TCP_KEEPIDLE", TCP_KEEPIDLE.toString());
        assertEquals(Duration.class, TCP_KEEPIDLE.type());
        assertEquals(Boolean.class, TCP_NODELAY.type());
        assertEquals(Integer.class, TCP_KEEPCNT.type());
        assertEquals(Duration.class, SO_LINGER.type());
        assertEquals(Duration.class, TCP_USER_TIMEOUT.type());
        assertEquals(List.of(TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, SO_REUSEADDR,
                SO_REUSEPORT, SO_RCVBUF, SO_SNDBUF, SO_LINGER, TCP_USER_TIMEOUT, TCP_FASTOPEN, TCP_FASTOPEN_CONNECT,
                TCP_DEFER_ACCEPT, TCP_QUICKACK, TCP_NOTSENT_LOWAT, IP_TOS, IPV6_V6ONLY, IP_FREEBIND, IP_TRANSPARENT,
                SO_BUSY_POLL, SO_PREFER_BUSY_POLL, SO_INCOMING_CPU), SockOpt.values());
    }

    @Test
    void privilegedOptionsWorkWithCapNetAdminAndFailClearlyWithout() throws Exception {
        int fd = tcpSocket();
        for (SockOpts o : List.of(SockOpts.empty().with(IP_TRANSPARENT, true), SockOpts.empty().with(SO_BUSY_POLL, 50))) {
            try {
                o.applyTo(fd);
            } catch (EpollException e) { // not root: EPERM, naming the option
                assertEquals("EPERM", e.errnoName(), e.getMessage());
                assertTrue(e.getMessage().contains(o.toString().replaceAll("SockOpts\\{(\\w+)=.*", "$1")), e.getMessage());
                continue;
            }
        }
        if ("root".equals(System.getProperty("user.name"))) {
            assertEquals(true, SockOpts.read(fd, IP_TRANSPARENT));
            assertEquals(50, SockOpts.read(fd, SO_BUSY_POLL));
        }
    }

    @Test
    void v6OnlyRoundTripsOnAnIpv6Socket() throws Exception {
        int fd = LibC.socket(LibC.AF_INET6, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0);
        assertTrue(fd >= 0);
        try {
            roundTrip(fd, IPV6_V6ONLY, true);
            roundTrip(fd, IPV6_V6ONLY, false);
        } finally {
            LibC.close(fd);
        }
    }

    @Test
    void applyingManyTimesLeaksNoFds() throws Exception {
        SockOpts opts = SockOpts.empty().with(TCP_NODELAY, true).with(SO_LINGER, Duration.ZERO);
        int warm = tcpSocket();
        opts.applyTo(warm);
        SockOpts.read(warm, SO_LINGER);
        close(warm);
        long before = openFdCount();
        for (int i = 0; i < 200; i++) {
            int fd = tcpSocket();
            opts.applyTo(fd);
            assertEquals(Duration.ZERO, SockOpts.read(fd, SO_LINGER));
            close(fd);
        }
        assertEquals(before, openFdCount());
    }

    /** Open socket fds only: other threads of the JVM (JIT, JFR, GC) open and close files of their own meanwhile. */
    private static long openFdCount() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().startsWith("socket:");
                } catch (IOException gone) {
                    return false; // closed since it was listed
                }
            }).count();
        }
    }
}
