package org.epoll4j.readme;

import org.epoll4j.BusyPoll;
import org.epoll4j.FileEvent;
import org.epoll4j.FileWatcher;
import org.epoll4j.Reactor;
import org.epoll4j.SignalWatcher;
import org.epoll4j.UnixSignal;
import org.epoll4j.net.ChildProcess;
import org.epoll4j.net.Connection;
import org.epoll4j.net.ConnectionHandler;
import org.epoll4j.net.ExitStatus;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Runs the code blocks of docs/guide.md's "Beyond sockets" section, and checks that the guide still shows exactly
 * this code (each block sits between {@code // guide:NAME} and {@code // end} here).
 */
@org.junit.jupiter.api.Timeout(60)
class GuideBeyondSocketsTest {
    private static final Path SELF = Path.of("src/test/java/org/epoll4j/readme/GuideBeyondSocketsTest.java");

    @Test
    void theGuideShowsTheseBlocks() throws Exception {
        assertEquals(4, GuideBlocks.assertGuideShows(SELF));
    }

    @Test
    void childProcess() throws Exception {
        List<String> printed = new ArrayList<>();
        CompletableFuture<ExitStatus> ended = new CompletableFuture<>();
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            CompletableFuture<ChildProcess> started = new CompletableFuture<>();
            reactor.execute(() -> {
                try {
                    started.complete(sortExample(reactor, printed, ended));
                } catch (Exception e) {
                    started.completeExceptionally(e);
                }
            });
            assertTrue(started.get(30, TimeUnit.SECONDS).pid() > 0);
            assertTrue(ended.get(30, TimeUnit.SECONDS).isSuccess());
        }
        assertTrue(String.join("", printed).startsWith("apple\npear\n"), printed.toString());
    }

    private static ChildProcess sortExample(Reactor reactor, List<String> out, CompletableFuture<ExitStatus> ended)
            throws Exception {
        PrintStreamLike System = new PrintStreamLike(out, ended);
        // guide:process
        ChildProcess sort = ChildProcess.builder(reactor, "sort")
                .stdin(new ConnectionHandler() {
                    @Override
                    public void onOpen(Connection c) {
                        c.write(ByteBuffer.wrap("pear\napple\n".getBytes(StandardCharsets.UTF_8)));
                        c.shutdownOutput();                       // sort reads to EOF, then writes
                    }

                    @Override
                    public void onData(Connection c, ByteBuffer data) {
                    }
                })
                .stdout((c, data) -> System.out.print(StandardCharsets.UTF_8.decode(data)))
                .timeout(Duration.ofSeconds(10))                  // SIGTERM, then SIGKILL after killGrace (5 s)
                .onExit((child, status) -> System.out.println("sort ended: " + status))
                .start();
        // end
        sort.exitFuture().thenAccept(ended::complete);
        return sort;
    }

    /** Stands in for {@code System} in the blocks, so that the test sees what they print. */
    static final class PrintStreamLike {
        final Out out;

        PrintStreamLike(List<String> lines, CompletableFuture<?> unused) {
            this.out = new Out(lines);
        }
    }

    /** Collects what a block prints. */
    static final class Out {
        final List<String> lines;

        Out(List<String> lines) {
            this.lines = lines;
        }

        synchronized void print(Object o) {
            lines.add(String.valueOf(o));
        }

        synchronized void println(Object o) {
            lines.add(o + "\n");
        }
    }

    @Test
    void signals() throws Exception {
        List<String> out = new ArrayList<>();
        PrintStreamLike System = new PrintStreamLike(out, null);
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            // guide:signals
            SignalWatcher signals = SignalWatcher.open(reactor, EnumSet.of(UnixSignal.TERM, UnixSignal.HUP),
                    (signal, count) -> {
                        if (signal == UnixSignal.TERM) {
                            reactor.close();                          // a graceful stop of your own making
                        } else {
                            System.out.println("reloading configuration");
                        }
                    });
            // end
            if (!signals.signals().contains(UnixSignal.HUP)) { // started under nohup: the JVM keeps SIGHUP ignored
                assertEquals(Set.of(UnixSignal.TERM), signals.signals());
                signals.close();
                return;
            }
            Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(ProcessHandle.current().pid())).start();
            assertEquals(0, kill.waitFor());
            long deadline = java.lang.System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (out.isEmpty() && java.lang.System.nanoTime() < deadline) {
                CompletableFuture.runAsync(() -> { }, reactor).get(20, TimeUnit.SECONDS);
            }
            signals.close();
        }
        assertEquals(List.of("reloading configuration\n"), out);
    }

    @Test
    void fileEvents() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            List<String> out = new ArrayList<>();
            PrintStreamLike System = new PrintStreamLike(out, null);
            // guide:files
            FileWatcher files = FileWatcher.open(reactor, event -> {
                switch (event.kind()) {
                    case MOVED -> System.out.println(event.path() + " renamed to " + event.newPath());
                    case OVERFLOW -> System.out.println("events were lost: rescan");
                    default -> System.out.println(event);
                }
            });
            files.watch(Path.of("/etc"), EnumSet.of(FileEvent.Kind.CLOSED_WRITE, FileEvent.Kind.MOVED));
            // end
            assertEquals(1, files.watchCount());
            files.close();
        }
    }

    @Test
    void busyPolling() throws Exception {
        List<String> out = new ArrayList<>();
        PrintStreamLike System = new PrintStreamLike(out, null);
        // guide:busypoll
        Reactor lowLatency = Reactor.builder()
                .busyPoll(BusyPoll.of(Duration.ofNanos(50_000), BusyPoll.DEFAULT_BUDGET, true))
                .build();
        System.out.println(lowLatency.busyPoll());               // Optional[BusyPoll[50 us, budget 64, prefer]]
        lowLatency.close();
        // end
        assertTrue(out.get(0).equals("Optional[BusyPoll[50 us, budget 64, prefer]]\n")
                || out.get(0).equals("Optional.empty\n"), out.toString());
    }
}
