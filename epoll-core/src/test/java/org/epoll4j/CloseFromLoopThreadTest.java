package org.epoll4j;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Closing from a loop thread never waits for another loop (nor for its own): two loops that close each other, or
 * the whole group, at the same moment both return, and {@code terminationFuture()} tells when everything ended.
 */
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
@Timeout(30)
class CloseFromLoopThreadTest {
    private static final String NAME = ThreadLeakCheck.REACTOR_PREFIX + "closeloop";

    @Test
    void twoLoopsClosingTheGroupAtOnceBothReturn() throws Exception {
        ReactorGroup group = ReactorGroup.builder().size(2).name(NAME + "-g").build();
        CyclicBarrier both = new CyclicBarrier(2);
        CompletableFuture<?>[] returned = {new CompletableFuture<>(), new CompletableFuture<>()};
        for (int i = 0; i < 2; i++) {
            int me = i;
            group.reactor(i).execute(() -> {
                await(both);
                group.close(); // from a loop thread: must request, not wait
                returned[me].complete(null);
            });
        }
        assertTrue(group.awaitTermination(Duration.ofSeconds(10)), "the group terminated (no close waits on a loop)");
        CompletableFuture.allOf(returned).get(10, TimeUnit.SECONDS);
        assertTrue(group.terminationFuture().isDone());
    }

    @Test
    void twoLoopsClosingEachOtherAtOnceBothReturn() throws Exception {
        ReactorGroup group = ReactorGroup.builder().size(2).name(NAME + "-r").build();
        Reactor a = group.reactor(0);
        Reactor b = group.reactor(1);
        CyclicBarrier both = new CyclicBarrier(2);
        a.execute(() -> {
            await(both);
            b.close();
        });
        b.execute(() -> {
            await(both);
            a.close();
        });
        a.terminationFuture().get(10, TimeUnit.SECONDS);
        b.terminationFuture().get(10, TimeUnit.SECONDS);
        group.terminationFuture().get(10, TimeUnit.SECONDS);
        assertTrue(group.awaitTermination(Duration.ofSeconds(10)));
    }

    @Test
    void closeFromItsOwnLoopReturnsAndTerminationFutureCompletesAfterwards() throws Exception {
        Reactor r = Reactor.builder().name(NAME + "-own").build();
        r.start();
        CompletableFuture<Boolean> doneWhenCloseReturned = new CompletableFuture<>();
        r.execute(() -> {
            r.close();
            doneWhenCloseReturned.complete(r.terminationFuture().isDone());
        });
        assertFalse(doneWhenCloseReturned.get(10, TimeUnit.SECONDS), "close() on its own loop only requests it");
        r.terminationFuture().get(10, TimeUnit.SECONDS);
        assertTrue(r.awaitTermination(Duration.ZERO));
    }

    private static void await(CyclicBarrier barrier) {
        try {
            barrier.await(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
