package org.epoll4j.net;

import org.epoll4j.FdReusedException;
import org.epoll4j.internal.LibC;
import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.ThreadLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.epoll4j.net.NetTestKit.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A connection's fd number belongs to exactly one owner: a connection ended because its (closed) fd number was
 * reused must not close the new owner's fd, and a connection whose set-up fails after registration closes its fd
 * exactly once.
 */
@Timeout(60)
@ExtendWith({FdLeakCheck.class, ThreadLeakCheck.class})
class NetFdReuseTest {

    /**
     * On the loop thread: closes {@code fd} behind its connection's back and fills every lower free fd number, so
     * that the next fd the process opens (the next accept) is {@code fd} again. Returns the fillers to close later.
     */
    private static List<Integer> freeForReuse(int fd) {
        LibC.close(fd);
        List<Integer> fillers = new ArrayList<>();
        while (true) {
            int f = LibC.open("/dev/null", LibC.O_RDONLY | LibC.O_CLOEXEC);
            if (f == fd) {
                LibC.close(f);
                return fillers;
            }
            if (f < 0 || f > fd) {
                if (f >= 0) {
                    LibC.close(f);
                }
                fillers.forEach(LibC::close);
                assumeTrue(false, "another thread took fd " + fd);
            }
            fillers.add(f);
        }
    }

    @Test
    void aConnectionEndedByFdReuseLeavesTheNewOwnersFdAlone() throws Exception {
        Echo echo = new Echo();
        try (Loop loop = Loop.start("fdreuse")) {
            TcpServer server = TcpServer.builder(loop.reactor).handler(echo).start();
            try (SocketChannel a = connect(server.localAddress()); SocketChannel b = SocketChannel.open()) {
                Connection old = echo.nextOpen();
                int n = old.fd();
                List<Integer> fillers = loop.call(() -> freeForReuse(n));
                try {
                    b.connect(server.localAddress());
                    Connection fresh = echo.nextOpen();
                    assertEquals(n, fresh.fd(), "the new connection got the reused fd number");
                    Closed c = echo.nextClose();
                    assertSame(old, c.connection());
                    FdReusedException e = assertInstanceOf(FdReusedException.class, c.cause());
                    assertEquals(n, e.fd());
                    // the new owner of fd n is untouched: it still echoes
                    byte[] msg = "still mine".getBytes(StandardCharsets.UTF_8);
                    writeFully(b, msg);
                    assertArrayEquals(msg, readFully(b, msg.length));
                    assertTrue(fresh.isOpen());
                    assertEquals(-1, a.read(ByteBuffer.allocate(1)), "the old connection's peer sees EOF");
                } finally {
                    loop.call(() -> {
                        fillers.forEach(LibC::close);
                        return null;
                    });
                }
            }
            assertNull(echo.nextClose().cause());
            loop.barrier();
            echo.assertClosedOnceEach(2);
            server.close();
        }
    }

    /**
     * Set-up fails after the accepted fd was registered: the idle timer cannot be scheduled because the reactor
     * started closing during register() (the old connection's onClose, run by the fd-reuse check, closes it). The
     * fd must be closed once: a probe fd opened right after, which gets the same number, must survive the
     * reactor's close.
     */
    @Test
    void anAcceptedFdIsClosedOnceWhenSetUpFailsAfterRegistration() throws Exception {
        AtomicInteger probe = new AtomicInteger(-1);
        AtomicInteger reused = new AtomicInteger(-1); // the fd number freed for the second accept
        AtomicInteger raced = new AtomicInteger(-1);
        Tracking handler = new Tracking() {
            @Override
            public void onOpen(Connection c) throws Exception {
                super.onOpen(c);
                int n = reused.get();
                if (n >= 0 && c.fd() != n) {
                    // Another thread opened an fd (a class file, say) between freeForReuse and the accept: the
                    // second connection set up normally, so nothing would close the reactor. End the run; skip.
                    raced.set(c.fd());
                    c.reactor().close();
                }
            }

            @Override
            public void onClose(Connection c, Throwable cause) {
                super.onClose(c, cause);
                if (cause instanceof FdReusedException) {
                    c.reactor().execute(() -> probe.set(LibC.open("/dev/null", LibC.O_RDONLY | LibC.O_CLOEXEC)));
                    c.reactor().close();
                }
            }
        };
        ConnectionConfig idle = ConnectionConfig.defaults()
                .withIdleTimeouts(Duration.ofHours(1), Duration.ZERO, Duration.ZERO);
        List<Integer> fillers;
        int n;
        try (Loop loop = Loop.start("setupfails")) {
            TcpServer server = TcpServer.builder(loop.reactor).config(idle).handler(handler).start();
            try (SocketChannel a = connect(server.localAddress()); SocketChannel b = SocketChannel.open()) {
                n = handler.nextOpen().fd();
                fillers = loop.call(() -> freeForReuse(n));
                reused.set(n);
                b.connect(server.localAddress());
                assertTrue(loop.reactor.awaitTermination(Duration.ofSeconds(WAIT_SECONDS)));
            }
            server.close();
        }
        if (raced.get() >= 0) {
            fillers.forEach(LibC::close);
            assumeTrue(false, "another thread took fd " + n + " before the accept (it got " + raced.get() + ")");
        }
        try {
            int p = probe.get();
            assertEquals(n, p, "the probe got the fd number the failed connection had");
            assertTrue(LibC.fcntl(p, LibC.F_GETFD, 0) >= 0,
                    "the probe fd is still open: nobody closed fd " + n + " a second time");
            Closed failed = handler.closed.stream().filter(c -> c.connection().fd() == n
                    && !(c.cause() instanceof FdReusedException)).findFirst().orElseThrow();
            assertInstanceOf(RejectedExecutionException.class, failed.cause(), () -> "cause: " + failed.cause());
            handler.assertClosedOnceEach(2);
        } finally {
            if (probe.get() >= 0) {
                LibC.close(probe.get());
            }
            fillers.forEach(LibC::close);
        }
    }
}
