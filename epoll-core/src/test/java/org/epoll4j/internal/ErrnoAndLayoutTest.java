package org.epoll4j.internal;

import org.epoll4j.EpollException;
import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

@ExtendWith(FdLeakCheck.class)
@Timeout(10)
class ErrnoAndLayoutTest {
    @Test
    void namesAndTexts() {
        assertEquals("EBADF", Errno.name(9));
        assertEquals("Bad file descriptor", Errno.text(Errno.EBADF));
        assertEquals("EAGAIN (Resource temporarily unavailable)", Errno.describe(Errno.EAGAIN));
        assertEquals("ECONNRESET (Connection reset by peer)", Errno.describe(104));
        assertEquals("EINPROGRESS", Errno.name(115));
        assertEquals("errno=0", Errno.name(0));
        assertEquals("errno=200", Errno.name(200));
        assertEquals("errno=-3", Errno.name(-3));
        assertEquals("Unknown error 133", Errno.text(133));
    }

    @Test
    void epollExceptionMessage() {
        EpollException e = new EpollException("epoll_ctl(ADD, fd=12)", Errno.EBADF);
        assertEquals("epoll_ctl(ADD, fd=12): EBADF (Bad file descriptor)", e.getMessage());
        assertEquals("epoll_ctl(ADD, fd=12)", e.call());
        assertEquals(Errno.EBADF, e.errno());
        assertEquals("EBADF", e.errnoName());
    }

    @Test
    void eventLayout() {
        EventBuffer.verifyLayout();
        assumeTrue("amd64".equals(System.getProperty("os.arch")), "packed layout is x86_64 only");
        assertEquals(12, EventBuffer.EVENT_SIZE);
        assertEquals(4, EventBuffer.DATA_OFFSET);
    }

    @Test
    void eventBufferRoundTripAndGrow() {
        EventBuffer b = new EventBuffer(2);
        b.set(1, LibC.EPOLLIN | LibC.EPOLLET, -2L);
        assertEquals(LibC.EPOLLIN | LibC.EPOLLET, b.events(1));
        assertEquals(-2L, b.data(1));
        b.grow(8);
        assertEquals(8, b.capacity());
        b.grow(4);
        assertEquals(8, b.capacity());
    }
}
