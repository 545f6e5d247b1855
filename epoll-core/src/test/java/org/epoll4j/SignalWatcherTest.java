package org.epoll4j;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Real signals from a real {@code kill} process, delivered on the reactor's thread. */
@ExtendWith(FdLeakCheck.class)
@org.junit.jupiter.api.Timeout(60)
class SignalWatcherTest {

    private static void kill(String signal) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(ProcessHandle.current().pid()))
                .redirectErrorStream(true).start();
        try (var in = p.getInputStream(); var out = p.getOutputStream(); var err = p.getErrorStream()) {
            assertTrue(p.waitFor(20, TimeUnit.SECONDS));
            assertEquals(0, p.exitValue(), new String(in.readAllBytes()));
        } // closed here, not later by the JDK's reaper thread (seen once as 3 "leaked" pipes by the fd check)
    }

    @Test
    void signalsFromAnotherProcessArriveOnTheReactorThread() throws Exception {
        LinkedBlockingQueue<UnixSignal> seen = new LinkedBlockingQueue<>();
        AtomicInteger offLoop = new AtomicInteger();
        CompletableFuture<Throwable> closed = new CompletableFuture<>();
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            SignalWatcher watcher = SignalWatcher.open(reactor, EnumSet.of(UnixSignal.USR1, UnixSignal.WINCH),
                    new SignalWatcher.Listener() {
                        @Override
                        public void onSignal(UnixSignal signal, int count) {
                            if (!reactor.inEventLoop()) {
                                offLoop.incrementAndGet();
                            }
                            for (int i = 0; i < count; i++) {
                                seen.add(signal);
                            }
                        }

                        @Override
                        public void onClosed(Throwable cause) {
                            closed.complete(cause);
                        }
                    });
            kill("USR1"); // its default action would end this JVM: the watcher must have caught it
            assertEquals(UnixSignal.USR1, seen.poll(20, TimeUnit.SECONDS));
            kill("WINCH");
            assertEquals(UnixSignal.WINCH, seen.poll(20, TimeUnit.SECONDS));
            assertEquals(0, offLoop.get());
            watcher.close();
            assertNull(closed.get(20, TimeUnit.SECONDS));
            watcher.close(); // idempotent
        }
    }

    @Test
    void closeGivesThePreviousHandlerBack() throws Exception {
        CountDownLatch previousGotIt = new CountDownLatch(1);
        SignalHandler mine = sig -> previousGotIt.countDown();
        SignalHandler original = Signal.handle(new Signal("USR1"), mine);
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            LinkedBlockingQueue<UnixSignal> seen = new LinkedBlockingQueue<>();
            SignalWatcher watcher = SignalWatcher.open(reactor, Set.of(UnixSignal.USR1), (s, n) -> seen.add(s));
            kill("USR1");
            assertEquals(UnixSignal.USR1, seen.poll(20, TimeUnit.SECONDS));
            assertEquals(1, previousGotIt.getCount(), "the watcher, not the previous handler, had it");
            watcher.close();
            kill("USR1");
            assertTrue(previousGotIt.await(20, TimeUnit.SECONDS), "the previous handler is back");
        } finally {
            Signal.handle(new Signal("USR1"), original);
        }
    }

    @Test
    void oneWatcherPerSignalAndTheJvmsSignalsAreRefused() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            SignalWatcher first = SignalWatcher.open(reactor, Set.of(UnixSignal.USR1), (s, n) -> { });
            IllegalStateException taken = assertThrows(IllegalStateException.class,
                    () -> SignalWatcher.open(reactor, EnumSet.of(UnixSignal.WINCH, UnixSignal.USR1), (s, n) -> { }));
            assertTrue(taken.getMessage().contains("SIGUSR1"), taken.getMessage());
            // the refused watcher took nothing: WINCH is still free
            SignalWatcher.open(reactor, Set.of(UnixSignal.WINCH), (s, n) -> { }).close();
            first.close();
            SignalWatcher.open(reactor, Set.of(UnixSignal.USR1), (s, n) -> { }).close();
        }
        for (String jvms : new String[]{"QUIT", "SIGUSR2", "segv", "PIPE", "KILL"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> UnixSignal.of(jvms));
            assertTrue(e.getMessage().startsWith("SIG"), e.getMessage());
        }
        assertSame(UnixSignal.TERM, UnixSignal.of("sigterm"));
        assertThrows(IllegalArgumentException.class, () -> UnixSignal.of("NOPE"));
    }

    @Test
    void aListenerThatThrowsClosesTheWatcherWithItsException() throws Exception {
        CompletableFuture<Throwable> closed = new CompletableFuture<>();
        IllegalStateException boom = new IllegalStateException("boom");
        try (Reactor reactor = Reactor.open()) {
            reactor.start();
            SignalWatcher watcher = SignalWatcher.open(reactor, Set.of(UnixSignal.USR1), new SignalWatcher.Listener() {
                @Override
                public void onSignal(UnixSignal signal, int count) {
                    throw boom;
                }

                @Override
                public void onClosed(Throwable cause) {
                    closed.complete(cause);
                }
            });
            kill("USR1");
            assertSame(boom, closed.get(20, TimeUnit.SECONDS));
            assertTrue(!watcher.isOpen());
            // released: another watcher may take the signal
            SignalWatcher.open(reactor, Set.of(UnixSignal.USR1), (s, n) -> { }).close();
        }
    }
}
