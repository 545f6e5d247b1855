package org.epoll4j.internal;

import org.epoll4j.testutil.FdLeakCheck;
import org.epoll4j.testutil.Fds;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each libc call's success path and its typical failure, with the errno it must report. */
@ExtendWith(FdLeakCheck.class)
@Timeout(10)
class LibCTest {
    private final ByteBuffer buf = NativeMemory.allocate(256);
    private final long addr = NativeMemory.address(buf);
    private final List<Integer> open = new ArrayList<>();

    @AfterEach
    void closeAll() {
        open.forEach(LibC::close);
    }

    private int track(int fd) {
        assertTrue(fd >= 0, () -> "expected an fd, got " + fd + ": " + Errno.describe(LibC.errno()));
        open.add(fd);
        return fd;
    }

    private int[] track(int[] pair) {
        track(pair[0]);
        track(pair[1]);
        return pair;
    }

    private static void assertFails(int expectedErrno, long rc) {
        int errno = LibC.errno();
        assertEquals(-1, rc, "expected failure with " + Errno.name(expectedErrno));
        assertEquals(Errno.name(expectedErrno), Errno.name(errno));
    }

    /** An fd number that is certainly closed: one we just opened and closed. */
    private static int closedFd() {
        int fd = Fds.eventfd();
        assertEquals(0, LibC.close(fd));
        return fd;
    }

    private int epoll() {
        return track(LibC.epoll_create1(LibC.EPOLL_CLOEXEC));
    }

    private int ctl(int ep, int op, int fd, int events, long data) {
        EventBuffer one = new EventBuffer(1);
        one.set(0, events, data);
        return LibC.epoll_ctl(ep, op, fd, one.address());
    }

    @Test
    void epollCreate1() {
        epoll();
        assertFails(Errno.EINVAL, LibC.epoll_create1(1));
    }

    @Test
    void epollCtlAddModDel() {
        int ep = epoll();
        int efd = track(Fds.eventfd());
        assertEquals(0, ctl(ep, LibC.EPOLL_CTL_ADD, efd, LibC.EPOLLIN, 7));
        assertEquals(0, ctl(ep, LibC.EPOLL_CTL_MOD, efd, LibC.EPOLLIN | LibC.EPOLLOUT, 8));
        assertEquals(0, ctl(ep, LibC.EPOLL_CTL_DEL, efd, 0, 0));
    }

    @Test
    void epollCtlFailures() throws IOException {
        int ep = epoll();
        int efd = track(Fds.eventfd());
        assertFails(Errno.EBADF, ctl(ep, LibC.EPOLL_CTL_ADD, closedFd(), LibC.EPOLLIN, 0));
        assertFails(Errno.EINVAL, ctl(ep, 99, efd, LibC.EPOLLIN, 0));
        assertFails(Errno.EINVAL, ctl(ep, LibC.EPOLL_CTL_ADD, ep, LibC.EPOLLIN, 0)); // epoll watching itself
        assertFails(Errno.ENOENT, ctl(ep, LibC.EPOLL_CTL_MOD, efd, LibC.EPOLLIN, 0));
        assertFails(Errno.ENOENT, ctl(ep, LibC.EPOLL_CTL_DEL, efd, 0, 0));
        assertEquals(0, ctl(ep, LibC.EPOLL_CTL_ADD, efd, LibC.EPOLLIN, 0));
        assertFails(Errno.EEXIST, ctl(ep, LibC.EPOLL_CTL_ADD, efd, LibC.EPOLLIN, 0));
        // EXCLUSIVE registrations cannot be modified
        int other = track(Fds.eventfd());
        assertEquals(0, ctl(ep, LibC.EPOLL_CTL_ADD, other, LibC.EPOLLIN | LibC.EPOLLEXCLUSIVE, 0));
        assertFails(Errno.EINVAL, ctl(ep, LibC.EPOLL_CTL_MOD, other, LibC.EPOLLIN, 0));
    }

    @Test
    void epollCtlRejectsRegularFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("plain.txt"), "not pollable");
        int fd = track(LibC.open(file.toString(), 0));
        assertFails(Errno.EPERM, ctl(epoll(), LibC.EPOLL_CTL_ADD, fd, LibC.EPOLLIN, 0));
        assertFails(Errno.ENOENT, LibC.open(dir.resolve("missing").toString(), 0));
    }

    @Test
    void epollWait() {
        int ep = epoll();
        int efd = track(Fds.eventfd());
        EventBuffer events = new EventBuffer(4);
        assertEquals(0, ctl(ep, LibC.EPOLL_CTL_ADD, efd, LibC.EPOLLIN, 0x1234_5678_9ABCL));
        assertEquals(0, LibC.epoll_wait(ep, events.address(), events.capacity(), 0));
        Fds.signal(efd, 1);
        assertEquals(1, LibC.epoll_wait(ep, events.address(), events.capacity(), 1000));
        assertEquals(LibC.EPOLLIN, events.events(0));
        assertEquals(0x1234_5678_9ABCL, events.data(0));

        assertFails(Errno.EINVAL, LibC.epoll_wait(efd, events.address(), 1, 0)); // not an epoll fd
        assertFails(Errno.EINVAL, LibC.epoll_wait(ep, events.address(), 0, 0));  // maxEvents must be > 0
        assertFails(Errno.EBADF, LibC.epoll_wait(closedFd(), events.address(), 1, 0));
    }

    @Test
    void eventfdReadWrite() {
        int efd = track(Fds.eventfd());
        assertFails(Errno.EAGAIN, LibC.read(efd, addr, 8));
        buf.putLong(0, 3);
        assertEquals(8, LibC.write(efd, addr, 8));
        assertEquals(8, LibC.write(efd, addr, 8));
        buf.putLong(0, 0);
        assertEquals(8, LibC.read(efd, addr, 8));
        assertEquals(6, buf.getLong(0));
        assertFails(Errno.EAGAIN, LibC.read(efd, addr, 8));
        assertFails(Errno.EINVAL, LibC.read(efd, addr, 4)); // eventfd reads are 8 bytes
        assertFails(Errno.EINVAL, LibC.eventfd(0, 0x2)); // unknown flag (1 is EFD_SEMAPHORE)
    }

    @Test
    void readWriteCloseOnClosedFd() {
        int fd = closedFd();
        assertFails(Errno.EBADF, LibC.read(fd, addr, 8));
        assertFails(Errno.EBADF, LibC.write(fd, addr, 8));
        assertFails(Errno.EBADF, LibC.close(fd));
        assertFails(Errno.EBADF, LibC.fcntl(fd, LibC.F_GETFL, 0));
        assertFails(Errno.EBADF, LibC.dup(fd));
        assertFails(Errno.EBADF, LibC.ioctl(fd, LibC.FIONREAD, addr));
    }

    @Test
    void pipeReadWriteAndFullPipe() {
        int[] p = track(Fds.pipe());
        assertFails(Errno.EAGAIN, LibC.read(p[0], addr, 16));
        buf.put(0, (byte) 42);
        assertEquals(1, LibC.write(p[1], addr, 1));
        buf.put(0, (byte) 0);
        assertEquals(1, LibC.read(p[0], addr, 16));
        assertEquals(42, buf.get(0));
        long written;
        int writes = 0;
        while ((written = LibC.write(p[1], addr, buf.capacity())) > 0) {
            writes++;
        }
        assertFails(Errno.EAGAIN, written);
        assertTrue(writes > 0);
        assertFails(Errno.EINVAL, LibC.pipe2(addr, 0x1)); // unknown flag
    }

    @Test
    void fcntlAndDup() {
        int nonBlocking = track(Fds.eventfd());
        int blocking = track(Fds.blockingEventfd());
        assertNotEquals(0, LibC.fcntl(nonBlocking, LibC.F_GETFL, 0) & LibC.O_NONBLOCK);
        int flags = LibC.fcntl(blocking, LibC.F_GETFL, 0);
        assertEquals(0, flags & LibC.O_NONBLOCK);
        assertEquals(0, LibC.fcntl(blocking, LibC.F_SETFL, flags | LibC.O_NONBLOCK));
        assertNotEquals(0, LibC.fcntl(blocking, LibC.F_GETFL, 0) & LibC.O_NONBLOCK);
        int copy = track(LibC.dup(nonBlocking));
        assertNotEquals(nonBlocking, copy);
    }

    @Test
    void timerfd() {
        int tfd = track(LibC.timerfd_create(LibC.CLOCK_MONOTONIC, LibC.TFD_NONBLOCK | LibC.TFD_CLOEXEC));
        ByteBuffer spec = NativeMemory.allocate(32); // struct itimerspec: interval, value
        spec.putLong(16, 0).putLong(24, 1); // fires after 1 ns
        assertEquals(0, LibC.timerfd_settime(tfd, 0, NativeMemory.address(spec), 0));
        ByteBuffer pfd = NativeMemory.allocate(8);
        pfd.putInt(0, tfd).putShort(4, LibC.POLLIN);
        assertEquals(1, LibC.poll(NativeMemory.address(pfd), 1, 5000));
        assertEquals(8, LibC.read(tfd, addr, 8));
        assertEquals(1, buf.getLong(0));
        assertFails(Errno.EINVAL, LibC.timerfd_create(12345, 0));
        spec.putLong(24, 2_000_000_000L); // tv_nsec out of range
        assertFails(Errno.EINVAL, LibC.timerfd_settime(tfd, 0, NativeMemory.address(spec), 0));
    }

    @Test
    void poll() {
        int efd = track(Fds.eventfd());
        ByteBuffer pfd = NativeMemory.allocate(8);
        pfd.putInt(0, efd).putShort(4, LibC.POLLIN);
        assertEquals(0, LibC.poll(NativeMemory.address(pfd), 1, 0));
        Fds.signal(efd, 1);
        assertEquals(1, LibC.poll(NativeMemory.address(pfd), 1, 0));
        assertEquals(LibC.POLLIN, pfd.getShort(6));
        assertFails(Errno.EFAULT, LibC.poll(0, 1, 0));
    }

    @Test
    void socketpairSendRecvShutdownIoctl() {
        int[] s = track(Fds.socketpair());
        buf.put(0, new byte[] {1, 2, 3, 4, 5});
        assertEquals(5, LibC.send(s[0], addr, 5, LibC.MSG_NOSIGNAL));
        assertEquals(0, LibC.ioctl(s[1], LibC.FIONREAD, addr + 128));
        assertEquals(5, buf.getInt(128));
        assertEquals(5, LibC.recv(s[1], addr + 64, 64, 0));
        assertFails(Errno.EAGAIN, LibC.recv(s[1], addr + 64, 64, LibC.MSG_DONTWAIT));
        assertEquals(0, LibC.shutdown(s[0], LibC.SHUT_WR));
        assertEquals(0, LibC.recv(s[1], addr, 64, 0)); // end of stream
        int efd = track(Fds.eventfd());
        assertFails(Errno.ENOTSOCK, LibC.send(efd, addr, 1, 0));
        assertFails(Errno.ENOTSOCK, LibC.recv(efd, addr, 1, 0));
        assertFails(Errno.ENOTSOCK, LibC.shutdown(efd, LibC.SHUT_RDWR));
        assertFails(Errno.EAFNOSUPPORT, LibC.socketpair(12345, LibC.SOCK_STREAM, 0, addr));
    }

    @Test
    void readvWritev() {
        int[] s = track(Fds.socketpair());
        ByteBuffer iov = NativeMemory.allocate(32); // two struct iovec {base, len}
        buf.put(0, "hello ".getBytes()).put(64, "world".getBytes());
        iov.putLong(0, addr).putLong(8, 6).putLong(16, addr + 64).putLong(24, 5);
        assertEquals(11, LibC.writev(s[0], NativeMemory.address(iov), 2));
        ByteBuffer in = NativeMemory.allocate(16);
        iov.putLong(0, NativeMemory.address(in)).putLong(8, 4).putLong(16, NativeMemory.address(in) + 4)
                .putLong(24, 12);
        assertEquals(11, LibC.readv(s[1], NativeMemory.address(iov), 2));
        byte[] got = new byte[11];
        in.get(0, got);
        assertArrayEquals("hello world".getBytes(), got);
        assertFails(Errno.EAGAIN, LibC.readv(s[1], NativeMemory.address(iov), 2));
        assertFails(Errno.EINVAL, LibC.writev(s[0], NativeMemory.address(iov), -1));
    }

    @Test
    void sendfile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("data"), "sendfile!");
        int in = track(LibC.open(file.toString(), 0));
        int[] s = track(Fds.socketpair());
        assertEquals(9, LibC.sendfile(s[0], in, 0, 64));
        assertEquals(9, LibC.read(s[1], addr, 64));
        assertFails(Errno.EBADF, LibC.sendfile(s[0], closedFd(), 0, 64));
    }

    /** struct sockaddr_in for 127.0.0.1:port. */
    private static ByteBuffer loopback(int port) {
        ByteBuffer sa = NativeMemory.allocate(16);
        sa.putShort(0, (short) LibC.AF_INET);
        sa.order(ByteOrder.BIG_ENDIAN).putShort(2, (short) port).putInt(4, 0x7F000001);
        return sa.order(ByteOrder.nativeOrder());
    }

    @Test
    void tcpLoopback() {
        int type = LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC;
        int listener = track(LibC.socket(LibC.AF_INET, type, 0));
        buf.putInt(0, 1);
        assertEquals(0, LibC.setsockopt(listener, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, addr, 4));
        ByteBuffer sa = loopback(0);
        assertEquals(0, LibC.bind(listener, NativeMemory.address(sa), 16));
        assertEquals(0, LibC.listen(listener, 16));
        assertFails(Errno.EAGAIN, LibC.accept4(listener, 0, 0, LibC.SOCK_NONBLOCK));
        ByteBuffer len = NativeMemory.allocate(4).putInt(0, 16);
        assertEquals(0, LibC.getsockname(listener, NativeMemory.address(sa), NativeMemory.address(len)));
        int port = Short.toUnsignedInt(sa.order(ByteOrder.BIG_ENDIAN).getShort(2));
        assertTrue(port > 0);

        int client = track(LibC.socket(LibC.AF_INET, type, 0));
        assertFails(Errno.ENOTCONN, LibC.getpeername(client, NativeMemory.address(sa), NativeMemory.address(len)));
        int rc = LibC.connect(client, NativeMemory.address(loopback(port)), 16);
        assertTrue(rc == 0 || LibC.errno() == Errno.EINPROGRESS, () -> Errno.describe(LibC.errno()));
        ByteBuffer pfd = NativeMemory.allocate(8);
        pfd.putInt(0, client).putShort(4, LibC.POLLOUT);
        assertEquals(1, LibC.poll(NativeMemory.address(pfd), 1, 5000));
        len.putInt(0, 4);
        buf.putInt(0, -1);
        assertEquals(0, LibC.getsockopt(client, LibC.SOL_SOCKET, LibC.SO_ERROR, addr, NativeMemory.address(len)));
        assertEquals(0, buf.getInt(0));
        pfd.putInt(0, listener).putShort(4, LibC.POLLIN);
        assertEquals(1, LibC.poll(NativeMemory.address(pfd), 1, 5000));
        int accepted = track(LibC.accept4(listener, 0, 0, LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC));
        len.putInt(0, 16);
        assertEquals(0, LibC.getpeername(accepted, NativeMemory.address(sa), NativeMemory.address(len)));
        assertEquals(0x7F000001, sa.order(ByteOrder.BIG_ENDIAN).getInt(4));

        int efd = track(Fds.eventfd());
        assertFails(Errno.EAFNOSUPPORT, LibC.socket(12345, LibC.SOCK_STREAM, 0));
        assertFails(Errno.ENOTSOCK, LibC.bind(efd, NativeMemory.address(loopback(0)), 16));
        assertFails(Errno.ENOTSOCK, LibC.listen(efd, 1));
        assertFails(Errno.EINVAL, LibC.accept4(client, 0, 0, 0)); // not listening
        assertFails(Errno.ENOTSOCK, LibC.connect(efd, NativeMemory.address(loopback(port)), 16));
        assertFails(Errno.ENOTSOCK, LibC.getsockname(efd, NativeMemory.address(sa), NativeMemory.address(len)));
        assertFails(Errno.ENOPROTOOPT, LibC.setsockopt(client, LibC.SOL_SOCKET, 12345, addr, 4));
        assertFails(Errno.ENOTSOCK, LibC.getsockopt(efd, LibC.SOL_SOCKET, LibC.SO_ERROR, addr,
                NativeMemory.address(len)));
    }
}
