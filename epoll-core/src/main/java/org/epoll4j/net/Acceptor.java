package org.epoll4j.net;

import org.epoll4j.EpollException;
import org.epoll4j.Handler;
import org.epoll4j.Interest;
import org.epoll4j.Reactor;
import org.epoll4j.Ready;
import org.epoll4j.Registration;
import org.epoll4j.RegistrationOption;
import org.epoll4j.TriggerMode;
import org.epoll4j.internal.Errno;
import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.epoll4j.internal.SockAddr;
import org.epoll4j.internal.Sockets;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;

/**
 * Accepting on one listening fd, on one reactor's thread: the accept4 loop with its per-event budget, the EMFILE
 * reserve fd, the back-off pause, and (for an EXCLUSIVE group member) leaving accepts to the others while above its
 * fair share. What happens to an accepted socket is the {@link Sink}'s business.
 *
 * <p>Each readiness event accepts at most {@code budget} connections, so a connection storm cannot starve
 * established connections. Out of fds (EMFILE/ENFILE) it frees a reserved fd, accepts and immediately closes the
 * waiting connections (their clients see the connection closed instead of hanging), and takes the reserve back
 * (libuv's trick); if even that fails it stops listening for {@link #BACKOFF} rather than spin on a listener that
 * stays readable.
 *
 * <p>Pausing an EXCLUSIVE registration means taking it out of epoll (the kernel refuses EPOLL_CTL_MOD on it) and
 * adding it back later, which puts this reactor at the end of the listener's wait queue.
 */
final class Acceptor implements Handler {
    private static final System.Logger LOG = System.getLogger(TcpServer.class.getName());
    /** How long accepts pause after an error that would otherwise make the listener spin. */
    static final Duration BACKOFF = Duration.ofMillis(100);
    /** How long an EXCLUSIVE member above its share leaves accepts to the others before it listens again. */
    static final Duration YIELD = Duration.ofMillis(10);
    /**
     * How long a hand-off may wait for the member it went to before that member counts as busy (a handler hogging
     * its loop) and the others accept regardless of shares. Long enough for a loaded machine's scheduling delays.
     */
    static final long HAND_OFF_PATIENCE_NANOS = Duration.ofMillis(100).toNanos();
    /*
     * Described now: out of fds, the JVM cannot open a .class file from a directory classpath, so loading Errno
     * for the first time in the EMFILE path throws NoClassDefFoundError (and would close the listener).
     */
    private static final String EMFILE_TEXT = Errno.describe(Errno.EMFILE);
    private static final String ENFILE_TEXT = Errno.describe(Errno.ENFILE);
    static {
        NetEvents.preload(); // for the same reason: the EMFILE path records a JFR event
    }

    /** Where accepted sockets go, and who hears that accepting ended. */
    interface Sink {
        /**
         * A socket was accepted; the sink owns {@code fd} from now on. On the acceptor's loop thread.
         *
         * @param remote      the peer's address, or {@code null} when {@code remoteInet4} holds it
         * @param remoteInet4 an IPv4 peer packed by {@link SockAddr#packInet4}, or -1
         */
        void accepted(int fd, SocketAddress remote, long remoteInet4);

        /** The registration ended for good (reactor closed, cancelled, or the fd was reused under it). */
        void ended(Throwable cause);
    }

    /** For an EXCLUSIVE group member: the group's view of who holds how many connections. */
    interface Share {
        /** Whether this member holds more than its fair share of the group's connections. */
        boolean aboveShare();

        /**
         * Asks the member furthest below its share to accept what is waiting (its reactor might not have been woken
         * for it: EPOLLEXCLUSIVE wakes one waiter per new connection).
         *
         * @return false if no other member can take them now (closing, or its loop busy: an earlier hand-off has
         *         waited longer than {@link #HAND_OFF_PATIENCE_NANOS}); then this one keeps accepting
         */
        boolean handOff();
    }

    private final Reactor reactor;
    private final int listenFd;
    private final SocketAddress localAddress;
    private final int budget;
    private final boolean exclusive;
    private final Sink sink;
    private final Share share;
    /** accept4's sockaddr (and socklen_t after it): the peer's address comes with the fd, no getpeername. */
    private final ByteBuffer peer = NativeMemory.allocate(SockAddr.MAX_SIZE + 8);
    private final long peerAddress = NativeMemory.address(peer);
    // Loop thread only (or while no thread runs the reactor).
    private Registration registration;
    /** An EXCLUSIVE registration is being taken out for a pause, not ended. */
    private boolean reRegistering;
    /** Paused or yielding: the listener is out of epoll (EXCLUSIVE) or has no interest, until a timer resumes it. */
    private boolean withdrawn;
    private int reserveFd;
    private volatile boolean stopped;
    // Written on the loop thread only; volatile so that the getters may be called from any thread.
    private volatile long accepted;
    private volatile long rejected;
    private volatile long yields;
    /** When a member above its share handed this one what was waiting, not yet run (0: nothing pending). */
    private volatile long handOffSince;

    Acceptor(Reactor reactor, int listenFd, SocketAddress localAddress, int budget, boolean exclusive, Share share,
             Sink sink) {
        this.reactor = reactor;
        this.listenFd = listenFd;
        this.localAddress = localAddress;
        this.budget = budget;
        this.exclusive = exclusive;
        this.share = share;
        this.sink = sink;
        this.reserveFd = openReserve();
    }

    /** Starts watching the listener; on the loop thread, or while no thread runs the reactor. */
    void register() throws EpollException {
        if (!stopped) {
            registration = exclusive
                    ? reactor.register(listenFd, Interest.READ, TriggerMode.LEVEL, this, RegistrationOption.EXCLUSIVE)
                    : reactor.register(listenFd, Interest.READ, TriggerMode.LEVEL, this);
        }
    }

    /** Stops accepting for good; on the loop thread, or while no thread runs the reactor. Idempotent. */
    void stop() {
        stopped = true;
        if (registration != null && registration.isValid()) {
            registration.cancel(); // onClosed tells the sink
        }
        closeReserve();
    }

    /** Closes the reserve fd; once nothing accepts any more. */
    void closeReserve() {
        Sockets.closeQuietly(reserveFd);
        reserveFd = -1;
    }

    long accepted() {
        return accepted;
    }

    long rejected() {
        return rejected;
    }

    /** How often this member left accepts to the others for being above its share. */
    long yields() {
        return yields;
    }

    @Override
    public void onReady(Registration reg, Ready ready) {
        acceptBatch(false);
    }

    /**
     * Whether a hand-off to this acceptor has waited longer than {@link #HAND_OFF_PATIENCE_NANOS} without running:
     * its loop is busy
     * (a handler hogging it), so a member above its share should accept rather than leave connections waiting.
     * Any thread.
     */
    boolean handOffStale(long now) {
        long since = handOffSince;
        return since != 0 && now - since > HAND_OFF_PATIENCE_NANOS;
    }

    /**
     * Hands this acceptor what is waiting on the listener: it runs {@link #acceptNow} on its loop. Any thread.
     *
     * @return false if its reactor is closing
     */
    boolean handOff(long now) {
        if (handOffSince != 0) {
            return true; // one is on its way already
        }
        handOffSince = now == 0 ? 1 : now;
        try {
            reactor.execute(this::acceptNow);
            return true;
        } catch (RejectedExecutionException closing) {
            handOffSince = 0;
            return false;
        }
    }

    /** Accepts what is waiting without a readiness event: a group member above its share handed it over. */
    void acceptNow() {
        handOffSince = 0;
        if (!stopped) {
            acceptBatch(true);
        }
    }

    @Override
    public void onClosed(Registration reg, Throwable cause) {
        if (reRegistering) {
            return; // withdraw() takes an EXCLUSIVE registration out for a while: the listener stays
        }
        stopped = true;
        sink.ended(cause);
    }

    /** @param handedOver no readiness event will follow for what is left: come back for it */
    private void acceptBatch(boolean handedOver) {
        for (int i = 0; i < budget && !stopped; i++) {
            if (share != null && share.aboveShare() && share.handOff()) {
                yields++;
                if (!withdrawn && !handedOver) {
                    withdraw(YIELD);
                }
                return;
            }
            int fd = acceptOne();
            if (fd >= 0) {
                accepted++;
                adopt(fd);
                continue;
            }
            int err = LibC.errno();
            switch (err) {
                case Errno.EAGAIN:
                    return;
                case Errno.EINTR:
                case Errno.ECONNABORTED:
                case Errno.EPROTO: // the client went away during the handshake
                case Errno.EPERM: // firewall
                    continue;
                case Errno.EMFILE:
                case Errno.ENFILE:
                    shedWithReserve(err);
                    return;
                default:
                    LOG.log(System.Logger.Level.WARNING, "accept4(fd=" + listenFd + "): " + Errno.describe(err)
                            + "; pausing accepts for " + BACKOFF.toMillis() + " ms");
                    withdraw(BACKOFF);
                    return;
            }
        }
        if (handedOver && !stopped) {
            try {
                reactor.execute(this::acceptNow); // budget spent: the rest after this loop's other work
            } catch (RejectedExecutionException closing) {
                // the reactor is closing: its close ends the registration
            }
        }
    }

    /** accept4 with the peer's sockaddr captured into {@link #peer}. */
    private int acceptOne() {
        peer.putInt(SockAddr.MAX_SIZE, SockAddr.MAX_SIZE);
        return LibC.accept4(listenFd, peerAddress, peerAddress + SockAddr.MAX_SIZE,
                LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC);
    }

    private void adopt(int fd) {
        // Read before the next accept4 reuses the buffer. IPv4 stays packed in a long until someone asks for it.
        long remoteInet4 = SockAddr.packInet4(peer);
        SocketAddress remote;
        try {
            remote = remoteInet4 >= 0 ? null : SockAddr.decode(peer, peer.getInt(SockAddr.MAX_SIZE));
        } catch (RuntimeException e) {
            LibC.close(fd);
            LOG.log(System.Logger.Level.WARNING, "accepted fd " + fd + " with an unreadable peer address", e);
            return;
        }
        sink.accepted(fd, remote, remoteInet4);
    }

    /** Counts a socket the sink could not place (its reactor is closing) and closed. */
    void rejectedOne() {
        rejected++;
    }

    /** libuv's trick: free the reserve fd, accept and drop what is waiting, take the reserve back. */
    private void shedWithReserve(int err) {
        long before = rejected;
        if (reserveFd >= 0) {
            LibC.close(reserveFd);
            reserveFd = -1;
            int fd;
            while ((fd = acceptOne()) >= 0) {
                LibC.close(fd);
                rejected++;
            }
            reserveFd = openReserve();
        }
        try {
            NetEvents.acceptRejected(listenFd, localAddress, err == Errno.EMFILE ? "EMFILE" : "ENFILE",
                    rejected - before);
            String text = err == Errno.EMFILE ? EMFILE_TEXT : ENFILE_TEXT;
            LOG.log(System.Logger.Level.WARNING, () -> "accept4(fd=" + listenFd + "): " + text + "; closed "
                    + (rejected - before) + " waiting connection(s)");
        } catch (Throwable logFailed) {
            // Logging may itself need an fd (config file, log file): never let it cost the listener.
        }
        if (reserveFd < 0) {
            withdraw(BACKOFF); // no reserve to shed with next time: back off instead of spinning
        }
    }

    /**
     * Stops listening for {@code pause}, then listens again. If the reactor closes meanwhile, no registration is
     * left to tell the sink (EXCLUSIVE): the server learns of the end from the reactor's termination instead.
     */
    private void withdraw(Duration pause) {
        if (withdrawn) {
            return; // a hand-off ran into an error while paused: the pending resume covers it
        }
        if (exclusive) {
            // The kernel refuses EPOLL_CTL_MOD on an EPOLLEXCLUSIVE registration: take it out, add it back later.
            reRegistering = true;
            try {
                registration.cancel();
            } finally {
                reRegistering = false;
            }
        } else {
            try {
                registration.interest(Interest.NONE);
            } catch (EpollException | IllegalStateException e) {
                LOG.log(System.Logger.Level.WARNING, "pausing accepts on fd " + listenFd + " failed", e);
                return;
            }
        }
        withdrawn = true;
        try {
            reactor.schedule(pause, this::resume);
        } catch (RejectedExecutionException closing) {
            // the reactor is closing: the server closes with it
        }
    }

    private void resume() {
        withdrawn = false;
        if (stopped) {
            return;
        }
        if (reserveFd < 0) {
            reserveFd = openReserve();
        }
        try {
            if (exclusive) {
                register();
            } else if (registration.isValid()) {
                registration.interest(Interest.READ);
            }
        } catch (EpollException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "resuming accepts on fd " + listenFd + " failed", e);
        }
    }

    private static int openReserve() {
        return LibC.open("/dev/null", LibC.O_RDONLY | LibC.O_CLOEXEC);
    }
}
