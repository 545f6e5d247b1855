package org.epoll4j.net;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

import static org.epoll4j.net.BlockingConnectionTest.async;
import static org.epoll4j.net.BlockingConnectionTest.await;
import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * No virtual thread is pinned while it waits in the blocking facade: a JFR recording of
 * {@code jdk.VirtualThreadPinned} (threshold zero) over an echo load, blocked writers, timeouts and closes, on
 * both sides of the connections, holds no event. Java 21+ only (no virtual threads before).
 */
@Timeout(120)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class BlockingPinningTest {
    /** Sleeps in its static initializer: a virtual thread initializing it is pinned (the recording's control). */
    static final class PinsInClassInit {
        static final int VALUE = sleepInClassInit();
    }

    /** The same control for the second recording (a class initializes once per JVM). */
    static final class PinsInClassInitAgain {
        static final int VALUE = sleepInClassInit();
    }

    /** Called from a static initializer: the sleep happens while the class initializes. */
    private static int sleepInClassInit() {
        try {
            Thread.sleep(30);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 1;
    }

    /** 50 clients on virtual threads, each 100 echo round trips over the watermark, a flush and a read timeout. */
    private static int load(Loop loop, TcpServer server, int clients) throws Exception {
        List<CompletableFuture<Integer>> futures = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            futures.add(async(() -> {
                try (BlockingConnection c = BlockingConnection.connect(loop.reactor, server.localAddress(),
                        seconds(10))) {
                    ByteBuffer b = ByteBuffer.allocate(1000);
                    for (int round = 0; round < 100; round++) {
                        c.write(ByteBuffer.allocate(1000)); // above the watermark: writers wait sometimes
                        c.readFully(b.clear());
                    }
                    c.flush();
                    c.readTimeout(Duration.ofMillis(5));
                    assertThrows(ConnectionTimeoutException.class, () -> c.read(b.clear()));
                    return 1;
                }
            }));
        }
        int done = 0;
        for (CompletableFuture<Integer> f : futures) {
            done += await(f);
        }
        return done;
    }

    private static String stack(RecordedEvent e) {
        return e.getStackTrace() == null ? e.toString() : e.getStackTrace().getFrames().stream().limit(16)
                .map(f -> f.getMethod().getType().getName() + "." + f.getMethod().getName() + ":" + f.getLineNumber())
                .collect(Collectors.joining("\n  "));
    }

    @Test
    void noVirtualThreadIsPinnedWhileBlocked() throws Exception {
        assumeTrue(BlockingService.virtualThreadsAvailable(), "virtual threads need Java 21+");
        assertNoPinning(BlockingService.of(BlockingConnectionTest.ECHO), () -> PinsInClassInit.VALUE,
                PinsInClassInit.class);
    }

    @Test
    void noVirtualThreadIsPinnedWhileBlockedOnTheReactorsThread() throws Exception {
        assumeTrue(BlockingService.onReactorThreadAvailable(), "threads on the reactor need Java 24+");
        assertNoPinning(BlockingService.of(BlockingConnectionTest.ECHO).onReactorThread(),
                () -> PinsInClassInitAgain.VALUE, PinsInClassInitAgain.class);
    }

    /** Records pinning over the load against {@code service}; {@code control} pins once (in class {@code pins}). */
    private static void assertNoPinning(BlockingService service, java.util.concurrent.Callable<Integer> control,
                                        Class<?> pins) throws Exception {
        Path file = Files.createTempFile("epoll4j-pinning", ".jfr");
        try (Loop loop = Loop.start("pinning"); Recording recording = new Recording()) {
            TcpServer server = TcpServer.builder(loop.reactor).bind(new InetSocketAddress("127.0.0.1", 0))
                    .config(ConnectionConfig.defaults().withWriteWatermarks(2048, 4096))
                    .handlerFactory(service).start();
            // classes load first: a virtual thread waiting for another to load or initialize a class is pinned,
            // which is the JDK's business, not the facade's
            assertEquals(1, load(loop, server, 1));
            recording.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
            recording.start();
            await(async(control));
            assertEquals(50, load(loop, server, 50));
            server.close();
            recording.stop();
            recording.dump(file);
            List<String> pinned = RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().equals("jdk.VirtualThreadPinned"))
                    .map(BlockingPinningTest::stack).collect(Collectors.toList());
            // the control: a virtual thread that sleeps inside a class initializer is pinned, and is seen
            assertTrue(pinned.removeIf(s -> s.contains(pins.getName())),
                    "the recording saw no pinning at all, not even the control's: " + pinned);
            assertEquals(List.of(), pinned, "virtual threads pinned while parked");
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
