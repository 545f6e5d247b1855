package org.epoll4j;

import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

@ExtendWith(FdLeakCheck.class)
@Timeout(30)
class ReactorSmokeTest {
    @Test
    void eventfdReadableTaskAndTimer() throws Exception {
        try (Reactor reactor = Reactor.open()) {
            int efd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
            ByteBuffer b = NativeMemory.allocate(8).putLong(0, 1);
            AtomicInteger seen = new AtomicInteger();
            reactor.register(efd, Interest.READ, TriggerMode.LEVEL, (r, ready) -> {
                assertTrue(ready.isReadable());
                LibC.read(r.fd(), NativeMemory.address(b), 8);
                seen.incrementAndGet();
            });
            assertEquals(0, reactor.poll(Duration.ZERO));
            LibC.write(efd, NativeMemory.address(b), 8);
            assertEquals(1, reactor.poll(Duration.ofSeconds(1)));
            assertEquals(1, seen.get());
            CountDownLatch timer = new CountDownLatch(1);
            reactor.schedule(Duration.ofMillis(5), timer::countDown);
            Thread loop = reactor.start();
            CountDownLatch task = new CountDownLatch(1);
            reactor.execute(task::countDown);
            assertTrue(task.await(5, TimeUnit.SECONDS));
            assertTrue(timer.await(5, TimeUnit.SECONDS));
            reactor.close();
            loop.join(5000);
            assertFalse(loop.isAlive());
            LibC.close(efd);
        }
    }
}
