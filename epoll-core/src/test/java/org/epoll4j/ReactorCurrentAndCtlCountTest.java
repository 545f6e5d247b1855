package org.epoll4j;

import org.epoll4j.internal.LibC;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Reactor.current() on and off the loop, across a nested close; the epoll_ctl counter. */
@ExtendWith(FdLeakCheck.class)
@Timeout(30)
class ReactorCurrentAndCtlCountTest {

    @Test
    void currentIsTheReactorWhoseLoopTheThreadRuns() throws Exception {
        assertNull(Reactor.current());
        try (Reactor a = Reactor.open(); Reactor b = Reactor.open()) {
            CompletableFuture<Reactor> inTask = new CompletableFuture<>();
            CompletableFuture<Reactor> inOtherClose = new CompletableFuture<>();
            CompletableFuture<Reactor> afterOtherClose = new CompletableFuture<>();
            int efd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
            try {
                b.register(efd, Interest.READ, TriggerMode.LEVEL, new Handler() {
                    @Override
                    public void onReady(Registration registration, Ready ready) {
                    }

                    @Override
                    public void onClosed(Registration registration, Throwable cause) {
                        inOtherClose.complete(Reactor.current()); // b's close, run on a's thread
                    }
                });
                a.execute(() -> {
                    inTask.complete(Reactor.current());
                    b.close(); // nobody runs b: this thread runs b's close inside a's loop
                    afterOtherClose.complete(Reactor.current());
                });
                a.poll(Duration.ofSeconds(10));
                assertSame(a, inTask.get(1, TimeUnit.SECONDS));
                assertSame(b, inOtherClose.get(1, TimeUnit.SECONDS));
                assertSame(a, afterOtherClose.get(1, TimeUnit.SECONDS), "back to a once b's close is done");
                assertNull(Reactor.current(), "poll() returned: this thread runs no loop");

                Thread t = a.start();
                CompletableFuture<Reactor> onStarted = new CompletableFuture<>();
                a.execute(() -> onStarted.complete(Reactor.current()));
                assertSame(a, onStarted.get(10, TimeUnit.SECONDS));
                a.close();
                t.join(10_000);
            } finally {
                LibC.close(efd);
            }
        }
    }

    @Test
    void toStringNamesTheBinding() throws Exception {
        try (Reactor reactor = Reactor.builder().name("named").build()) {
            String s = reactor.toString();
            assertEquals(true, s.startsWith("Reactor[named, ") && s.contains(", binding="
                    + org.epoll4j.internal.LibC.binding()), s);
        }
    }

    @Test
    void epollCtlCallsAreCountedFromEveryThread() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            int efd = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
            try {
                long before = reactor.stats().epollCtls();
                Registration r = reactor.register(efd, Interest.READ, TriggerMode.LEVEL, (reg, ready) -> { });
                assertEquals(before + 1, reactor.stats().epollCtls(), "ADD");
                r.interest(Interest.READ);
                assertEquals(before + 1, reactor.stats().epollCtls(), "no change: no epoll_ctl");
                r.interest(Interest.READ.with(Interest.WRITE));
                assertEquals(before + 2, reactor.stats().epollCtls(), "MOD");
                Thread loop = reactor.start();
                CompletableFuture<Void> fromOther = CompletableFuture.runAsync(() -> {
                    try {
                        r.interest(Interest.READ);
                    } catch (EpollException e) {
                        throw new RuntimeException(e);
                    }
                });
                fromOther.get(10, TimeUnit.SECONDS);
                assertEquals(before + 3, reactor.stats().epollCtls(), "MOD from another thread");
                r.cancel();
                assertEquals(before + 4, reactor.stats().epollCtls(), "DEL");
                reactor.close();
                loop.join(10_000);
            } finally {
                LibC.close(efd);
            }
        }
    }
}
