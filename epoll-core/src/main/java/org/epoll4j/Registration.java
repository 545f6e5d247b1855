package org.epoll4j;

/**
 * One fd watched by one {@link Reactor}: its interest, trigger mode and handler.
 *
 * <p>Epoll carries the registration's token, {@code (generation << 32) | slot}, never the bare fd, so an event that
 * arrives after {@link #cancel()} or after the fd number was reused is dropped rather than delivered to the wrong
 * handler.
 *
 * <p>Threads: {@link #interest(Interest)}, {@link #triggerMode(TriggerMode)}, {@link #rearm()} and {@link #cancel()}
 * work from any thread (epoll_ctl is thread-safe; calls on one registration are serialized), so a ONESHOT handler
 * can hand its work to another thread that re-arms when done. The getters are safe from any thread too. The
 * {@link #attachment()} is a plain field: publish it safely yourself if other threads read it.
 *
 * <p>How a registration ends is told once, on the reactor's thread, by {@link Handler#onClosed}: {@code null} after
 * {@link #cancel()}, the handler's throwable when it failed, a {@link ClosedReactorException} when the reactor
 * closed, or a {@link FdReusedException} when the fd was closed without {@code cancel()} and its number registered
 * again: that fd number then belongs to someone else, and the ended registration's owner must not close it.
 */
public final class Registration {
    private static final int LIVE = 0;
    /** Cancelled from another thread: out of epoll, not yet told ({@code onClosed} runs on the loop). */
    private static final int CANCELLING = 1;
    private static final int ENDED = 2;

    final Reactor reactor;
    final int fd;
    final int slot;
    final int generation;
    final Handler handler;
    final boolean oneshot;
    final boolean exclusive;
    /** Serializes epoll_ctl on this fd with the end of the registration (which frees its fd number for reuse). */
    final Object ctlLock = new Object();
    volatile Interest interest;
    volatile TriggerMode mode;
    /** LIVE, then CANCELLING (optional), then ENDED; changed only through the methods below, under {@link #ctlLock}. */
    private volatile int state = LIVE;
    private Object attachment;

    Registration(Reactor reactor, int fd, int slot, int generation, Interest interest, TriggerMode mode,
                 Handler handler, boolean oneshot, boolean exclusive) {
        this.reactor = reactor;
        this.fd = fd;
        this.slot = slot;
        this.generation = generation;
        this.interest = interest;
        this.mode = mode;
        this.handler = handler;
        this.oneshot = oneshot;
        this.exclusive = exclusive;
    }

    // ---------------------------------------------------------------- life (the reactor drives it, this class keeps it)

    /** Neither cancelled nor ended: epoll may still report it, and its handler runs. */
    boolean isLive() {
        return state == LIVE;
    }

    /** Whether its handler has been told (or is being told) how it ended. */
    boolean hasEnded() {
        return state == ENDED;
    }

    /** Cancelled from another thread: out of epoll now, {@code onClosed} still to come on the loop. Under ctlLock. */
    void cancelling() {
        state = CANCELLING;
    }

    /**
     * Ends the registration (under ctlLock); once only.
     *
     * @param cause why it ended
     * @return what its handler's {@code onClosed} is told: {@code null} if it was cancelled first, whatever came after
     */
    Throwable end(Throwable cause) {
        Throwable told = state == CANCELLING ? null : cause;
        state = ENDED;
        return told;
    }

    /** The token epoll carries for this registration. */
    long token() {
        return ((long) generation << 32) | (slot & 0xFFFFFFFFL);
    }

    /** The epoll bits for the current interest, mode and options. */
    int epollBits() {
        return epollBits(interest, mode);
    }

    int epollBits(Interest interest, TriggerMode mode) {
        int bits = interest.bits();
        if (mode == TriggerMode.EDGE) {
            bits |= org.epoll4j.internal.LibC.EPOLLET;
        }
        if (oneshot) {
            bits |= org.epoll4j.internal.LibC.EPOLLONESHOT;
        }
        if (exclusive) {
            bits |= org.epoll4j.internal.LibC.EPOLLEXCLUSIVE;
        }
        return bits;
    }

    /** The reactor this registration belongs to. */
    public Reactor reactor() {
        return reactor;
    }

    /** The watched file descriptor. */
    public int fd() {
        return fd;
    }

    /** The handler events go to. */
    public Handler handler() {
        return handler;
    }

    /** The current interest. */
    public Interest interest() {
        return interest;
    }

    /** The current trigger mode. */
    public TriggerMode triggerMode() {
        return mode;
    }

    /** Whether this is an EPOLLONESHOT registration. */
    public boolean isOneshot() {
        return oneshot;
    }

    /** Whether this is an EPOLLEXCLUSIVE registration. */
    public boolean isExclusive() {
        return exclusive;
    }

    /**
     * {@code false} once cancelled (from this or another thread), failed, superseded by a reuse of its fd, or its
     * reactor closed.
     */
    public boolean isValid() {
        return state == LIVE;
    }

    /**
     * Changes the interest. Calls epoll_ctl only when the interest actually changes. Safe from any thread.
     *
     * @param newInterest the new interest
     * @return this registration
     * @throws EpollException        if epoll_ctl fails (e.g. EBADF: the fd was closed)
     * @throws IllegalStateException if the registration is no longer valid or is EXCLUSIVE
     */
    public Registration interest(Interest newInterest) throws EpollException {
        if (newInterest != interest) {
            reactor.modify(this, newInterest, mode);
        }
        return this;
    }

    /**
     * Changes the trigger mode (epoll_ctl MOD with or without EPOLLET). Safe from any thread.
     *
     * @param newMode the new mode
     * @return this registration
     * @throws EpollException            if epoll_ctl or the non-blocking check fails
     * @throws IllegalStateException     as for {@link #interest(Interest)}
     * @throws IllegalArgumentException  if EDGE is asked for a blocking fd
     */
    public Registration triggerMode(TriggerMode newMode) throws EpollException {
        if (newMode != mode) {
            reactor.modify(this, interest, newMode);
        }
        return this;
    }

    /**
     * Re-arms a ONESHOT registration after it fired (epoll_ctl MOD with the current interest). Safe from any
     * thread: a handler may pass its work to another thread, which re-arms when it is done.
     *
     * @return this registration
     * @throws EpollException        if epoll_ctl fails
     * @throws IllegalStateException if this is not a ONESHOT registration or is no longer valid
     */
    public Registration rearm() throws EpollException {
        if (!oneshot) {
            throw new IllegalStateException("rearm() on fd " + fd + ": not a ONESHOT registration");
        }
        reactor.modify(this, interest, mode);
        return this;
    }

    /**
     * Stops watching the fd (epoll_ctl DEL) and calls the handler's {@link Handler#onClosed} with a {@code null}
     * cause. The fd itself stays open: it belongs to the caller. Does nothing if already ended.
     *
     * <p>On the reactor's thread, {@code onClosed} runs before this returns. From another thread, the fd is out of
     * epoll and {@link #isValid()} is false when this returns, no new {@code onReady} starts after that (one already
     * running may finish), and {@code onClosed(null)} follows on the reactor's thread. The fd may be closed as soon
     * as this returns.
     */
    public void cancel() {
        reactor.cancel(this);
    }

    /** An object the application associates with this registration. */
    public Object attachment() {
        return attachment;
    }

    /**
     * Associates an object with this registration.
     *
     * @param attachment the object, or {@code null}
     * @return the previous attachment
     */
    public Object attach(Object attachment) {
        Object old = this.attachment;
        this.attachment = attachment;
        return old;
    }

    @Override
    public String toString() {
        return "Registration[fd=" + fd + ", " + interest + ", " + mode + (oneshot ? ", ONESHOT" : "")
                + (exclusive ? ", EXCLUSIVE" : "") + (state == LIVE ? "" : ", ended") + "]";
    }
}
