package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Reactor;
import org.epoll4j.UnixSignal;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real processes: pipes as connections, exit through a pidfd, signals, timeouts, and what the child inherits. */
@ExtendWith(FdLeakCheck.class)
@org.junit.jupiter.api.Timeout(60)
class ChildProcessTest {
    private Reactor reactor;

    @BeforeEach
    void start() throws Exception {
        reactor = Reactor.open();
        reactor.start();
    }

    @AfterEach
    void stop() throws Exception {
        reactor.close();
        assertTrue(reactor.awaitTermination(Duration.ofSeconds(20)));
    }

    /** Collects a stream's bytes; {@link #done} completes when the child closed its end. */
    static final class Collector implements ConnectionHandler {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final CompletableFuture<byte[]> done = new CompletableFuture<>();

        @Override
        public void onData(Connection c, ByteBuffer data) {
            byte[] b = new byte[data.remaining()];
            data.get(b);
            bytes.write(b, 0, b.length);
        }

        @Override
        public void onClose(Connection c, Throwable cause) {
            done.complete(bytes.toByteArray());
        }

        String text() throws Exception {
            return new String(done.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        }
    }

    private ChildProcess start(ChildProcess.Builder b) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return b.start();
            } catch (EpollException e) {
                throw new CompletionException(e);
            }
        }, reactor).get(30, TimeUnit.SECONDS);
    }

    @Test
    void fourMebibytesThroughCatArriveWhole() throws Exception {
        byte[] payload = new byte[4 << 20];
        new Random(7).nextBytes(payload);
        Collector out = new Collector();
        ChildProcess cat = start(ChildProcess.builder(reactor, "cat").stdout(out).stdin(new ConnectionHandler() {
            @Override
            public void onOpen(Connection c) {
                c.write(ByteBuffer.wrap(payload));
                c.shutdownOutput(); // after the queued bytes: cat sees end of input
            }

            @Override
            public void onData(Connection c, ByteBuffer data) {
            }
        }));
        assertTrue(cat.pid() > 0);
        assertArrayEquals(payload, out.done.get(30, TimeUnit.SECONDS));
        ExitStatus s = cat.exitFuture().get(30, TimeUnit.SECONDS);
        assertTrue(s.isSuccess(), s.toString());
        assertFalse(cat.isAlive());
    }

    @Test
    void exitCodesSignalsAndStderr() throws Exception {
        Collector err = new Collector();
        CompletableFuture<ExitStatus> viaListener = new CompletableFuture<>();
        ChildProcess p = start(ChildProcess.builder(reactor, "sh", "-c", "echo oops >&2; exit 3").stderr(err)
                .onExit((child, status) -> viaListener.complete(status)));
        assertEquals("oops\n", err.text());
        ExitStatus s = p.exitFuture().get(30, TimeUnit.SECONDS);
        assertEquals(3, s.code());
        assertTrue(s.exited());
        assertEquals(s, viaListener.get(30, TimeUnit.SECONDS));

        ChildProcess sleeper = start(ChildProcess.builder(reactor, "sleep", "30"));
        sleeper.signal(UnixSignal.USR1); // from this thread: hops to the loop
        ExitStatus killed = sleeper.exitFuture().get(30, TimeUnit.SECONDS);
        assertEquals(UnixSignal.USR1.number(), killed.signal());
        assertEquals(-1, killed.code());
        assertEquals(128 + 10, killed.shellStatus());
        sleeper.kill(); // after the exit: nothing happens
    }

    @Test
    void aTimeoutTerminatesThenKills() throws Exception {
        ChildProcess polite = start(ChildProcess.builder(reactor, "sleep", "30").timeout(Duration.ofMillis(100)));
        ExitStatus s = polite.exitFuture().get(30, TimeUnit.SECONDS);
        assertTrue(s.timedOut());
        assertEquals(15, s.signal());

        ChildProcess stubborn = start(ChildProcess.builder(reactor, "sh", "-c", "trap '' TERM; echo ready; sleep 30")
                .stdout(new Collector()).timeout(Duration.ofMillis(100)).killGrace(Duration.ofMillis(100)));
        ExitStatus k = stubborn.exitFuture().get(30, TimeUnit.SECONDS);
        assertTrue(k.timedOut());
        assertEquals(9, k.signal());
    }

    @Test
    void environmentAndDirectoryAreTheBuildersOnes(@TempDir Path dir) throws Exception {
        Collector out = new Collector();
        ChildProcess.Builder b = ChildProcess.builder(reactor, "sh", "-c", "echo \"$EPOLL4J_TEST\"; pwd").stdout(out)
                .directory(dir);
        b.environment().put("EPOLL4J_TEST", "hello world");
        start(b);
        assertEquals("hello world\n" + dir.toRealPath() + "\n", out.text());
    }

    @Test
    void theChildGetsNoFdOfOursAnEmptySignalMaskAndNoIgnoredSignals() throws Exception {
        Collector out = new Collector();
        // ls lists its own directory fd too (3); anything else came from this JVM
        start(ChildProcess.builder(reactor, "sh", "-c",
                "ls /proc/self/fd | tr '\\n' ' '; echo; grep -E '^Sig(Blk|Ign)' /proc/self/status").stdout(out));
        String[] lines = out.text().split("\n");
        Set<String> fds = new TreeSet<>(Arrays.asList(lines[0].trim().split(" ")));
        assertTrue(Set.of("0", "1", "2", "3").containsAll(fds), "fds in the child: " + fds);
        assertEquals("SigBlk:\t0000000000000000", lines[1]);
        assertEquals("SigIgn:\t0000000000000000", lines[2]);
    }

    @Test
    void aMissingProgramFailsClearly() {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> start(ChildProcess.builder(reactor, "/no/such/program-epoll4j")));
        EpollException cause = assertInstanceOf(EpollException.class, e.getCause());
        assertEquals("ENOENT", cause.errnoName());
        assertTrue(cause.getMessage().contains("/no/such/program-epoll4j"), cause.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ChildProcess.builder(reactor));
        assertThrows(IllegalArgumentException.class, () -> ChildProcess.builder(reactor, "a\0b"));
    }

    @Test
    void closingTheReactorKillsAndReapsARunningChild() throws Exception {
        ChildProcess sleeper = start(ChildProcess.builder(reactor, "sleep", "30"));
        int pid = sleeper.pid();
        assertTrue(Files.exists(Path.of("/proc/" + pid)));
        reactor.close();
        assertTrue(reactor.awaitTermination(Duration.ofSeconds(20)));
        assertEquals(9, sleeper.exitFuture().getNow(null).signal());
        assertFalse(sleeper.isAlive());
        assertFalse(Files.exists(Path.of("/proc/" + pid)), "reaped: no zombie left");
    }
}
