package org.epoll4j.internal;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every binding this JVM can load (JNA always; FFM on Java 22+), side by side in one run, whichever one
 * {@link LibC} uses: the layout self-tests, errno, the calls FFM binds specially (critical when they cannot wait,
 * variadic ones, epoll_pwait2).
 */
@ExtendWith(FdLeakCheck.class)
@Timeout(20)
class BindingParityTest {
    static List<Binding> bindings() throws ReflectiveOperationException {
        List<Binding> all = new ArrayList<>();
        all.add(new JnaBinding());
        if (Runtime.version().feature() >= BindingChoice.FFM_MIN_JAVA) {
            // A Maven build on JDK 22+ always has it; a missing class here is a build defect, not a skip.
            all.add((Binding) Class.forName(BindingChoice.FFM_CLASS).getDeclaredConstructor().newInstance());
        }
        return all;
    }

    private final ByteBuffer buf = NativeMemory.allocate(64);
    private final long addr = NativeMemory.address(buf);

    @Test
    void bothBindingsAreTestedOnJava22AndLater() throws ReflectiveOperationException {
        List<String> names = new ArrayList<>();
        bindings().forEach(b -> names.add(b.name()));
        assertEquals(Runtime.version().feature() >= 22 ? List.of("jna", "ffm") : List.of("jna"), names);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bindings")
    void layoutSelfTests(Binding b) {
        assertNull(EventBuffer.check(b));
        assertNull(MsgHdr.check(b, MsgHdr.MSG_IOV, MsgHdr.MSG_IOVLEN));
        String wrong = MsgHdr.check(b, 8, MsgHdr.MSG_IOVLEN);
        assertNotNull(wrong);
        assertTrue(wrong.contains("EFAULT"), wrong);
        assertNull(MsgHdr.checkRights(b)); // sendmsg + recvmsg with SCM_RIGHTS through this binding
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bindings")
    void errnoAfterFailures(Binding b) {
        int efd = b.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        assertTrue(efd >= 0);
        try {
            assertEquals(-1, b.read(efd, addr, 8));
            assertEquals(Errno.EAGAIN, b.errno());
            assertEquals(-1, b.close(-1));
            assertEquals(Errno.EBADF, b.errno());
            assertEquals(-1, b.open("/nonexistent/epoll4j", LibC.O_RDONLY | LibC.O_CLOEXEC));
            assertEquals(Errno.ENOENT, b.errno());
        } finally {
            assertEquals(0, b.close(efd));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bindings")
    void errnoIsPerThread(Binding b) throws Exception {
        int efd = b.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
        CountDownLatch otherFailed = new CountDownLatch(1);
        try {
            assertEquals(-1, b.close(-1)); // EBADF here
            CompletableFuture<Integer> other = CompletableFuture.supplyAsync(() -> {
                long rc = b.read(efd, NativeMemory.address(NativeMemory.allocate(8)), 8); // EAGAIN there
                int errno = b.errno();
                otherFailed.countDown();
                return rc == -1 ? errno : -1;
            });
            assertTrue(otherFailed.await(10, TimeUnit.SECONDS));
            assertEquals(Errno.EAGAIN, other.get(10, TimeUnit.SECONDS));
            assertEquals(Errno.EBADF, b.errno(), "another thread's failure changed this thread's errno");
        } finally {
            b.close(efd);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bindings")
    void waitsWithAndWithoutTimeout(Binding b) {
        int ep = b.epoll_create1(LibC.EPOLL_CLOEXEC);
        assertTrue(ep >= 0);
        try {
            EventBuffer events = new EventBuffer(4);
            assertEquals(0, b.epoll_wait(ep, events.address(), 4, 0));  // critical on FFM
            assertEquals(0, b.epoll_wait(ep, events.address(), 4, 1));  // may wait: plain downcall
            assertEquals(-1, b.epoll_wait(-1, events.address(), 4, 0));
            assertEquals(Errno.EBADF, b.errno());
            if (b.hasEpollPwait2()) {
                ByteBuffer ts = NativeMemory.allocate(16);
                ts.putLong(0, 0).putLong(8, 1000); // 1 µs
                assertEquals(0, b.epoll_pwait2(ep, events.address(), 4, NativeMemory.address(ts), 0, 0));
            }
            ByteBuffer pollfd = NativeMemory.allocate(8);
            pollfd.putInt(0, ep).putShort(4, LibC.POLLIN).putShort(6, (short) 0);
            assertEquals(0, b.poll(NativeMemory.address(pollfd), 1, 0));
            assertEquals(0, b.poll(NativeMemory.address(pollfd), 1, 1));
        } finally {
            b.close(ep);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bindings")
    void sendAndRecvWithAndWithoutDontwait(Binding b) {
        ByteBuffer fds = NativeMemory.allocate(8);
        assertEquals(0, b.socketpair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC | LibC.SOCK_NONBLOCK, 0,
                NativeMemory.address(fds)));
        int a = fds.getInt(0);
        int c = fds.getInt(4);
        try {
            buf.put(0, (byte) 'x').put(1, (byte) 'y');
            assertEquals(1, b.send(a, addr, 1, LibC.MSG_NOSIGNAL));
            assertEquals(1, b.send(a, addr + 1, 1, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT));
            // fcntl and ioctl are variadic: FIONREAD sees both bytes, F_GETFL the non-blocking flag
            ByteBuffer n = NativeMemory.allocate(4);
            assertEquals(0, b.ioctl(c, LibC.FIONREAD, NativeMemory.address(n)));
            assertEquals(2, n.getInt(0));
            assertEquals(LibC.O_NONBLOCK, b.fcntl(c, LibC.F_GETFL, 0) & LibC.O_NONBLOCK);
            assertEquals(1, b.recv(c, addr + 8, 1, 0));
            assertEquals(1, b.recv(c, addr + 9, 1, LibC.MSG_DONTWAIT));
            assertEquals('x', buf.get(8));
            assertEquals('y', buf.get(9));
            assertEquals(-1, b.recv(c, addr, 1, LibC.MSG_DONTWAIT));
            assertEquals(Errno.EAGAIN, b.errno());
            assertEquals(-1, b.fcntl(-1, LibC.F_GETFL, 0));
            assertEquals(Errno.EBADF, b.errno());
        } finally {
            b.close(a);
            b.close(c);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bindings")
    void openAndAffinity(Binding b) {
        int fd = b.open("/proc/self/stat", LibC.O_RDONLY | LibC.O_CLOEXEC);
        assertTrue(fd >= 0, () -> Errno.describe(b.errno()));
        try {
            assertTrue(b.read(fd, addr, 64) > 0);
        } finally {
            b.close(fd);
        }
        ByteBuffer set = NativeMemory.allocate(128);
        assertEquals(0, b.sched_getaffinity(0, 128, NativeMemory.address(set)));
        assertTrue(set.getLong(0) != 0 || set.getLong(8) != 0, "no CPU allowed?");
    }
}
