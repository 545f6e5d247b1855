package org.epoll4j.net;

import org.epoll4j.internal.LibC;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Keeps a connection's fd open while threads other than the loop's are inside system calls on it (a blocking view's
 * direct sends and direct reads): each {@link #enter}s before and {@link #exit}s after; the connection's close
 * {@link #claimForClose claims} the fd, and whoever is last out of it closes it (the close itself when nobody is in).
 * So the fd is closed exactly once, and never while a send(2) or recv(2) of another thread could still use its
 * number (which the kernel would give to the next socket opened).
 */
final class FdGuard {
    private static final int CLOSED = 1 << 30;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(FdGuard.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int fd;
    /** Threads inside, plus {@link #CLOSED} once claimed. */
    @SuppressWarnings("unused") // through STATE
    private volatile int state;

    FdGuard(int fd) {
        this.fd = fd;
    }

    /** A thread is about to use the fd: false if it is claimed for closing (the thread must not use it then). */
    boolean enter() {
        while (true) {
            int s = state;
            if ((s & CLOSED) != 0) {
                return false;
            }
            if (STATE.compareAndSet(this, s, s + 1)) {
                return true;
            }
        }
    }

    /** The thread is done with the fd: closes it if the fd was claimed meanwhile and this was the last one in. */
    void exit() {
        if ((int) STATE.getAndAdd(this, -1) - 1 == CLOSED) {
            LibC.close(fd);
        }
    }

    /**
     * The connection closes: true if the caller may close(2) the fd now (nobody is in); false if a thread is in, and
     * the last one out closes it. No {@link #enter} succeeds after this.
     */
    boolean claimForClose() {
        int s = (int) STATE.getAndBitwiseOr(this, CLOSED);
        return s == 0;
    }

    /** Whether the fd was claimed for closing. */
    boolean claimed() {
        return (state & CLOSED) != 0;
    }
}
