package org.epoll4j;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Which thread runs a {@link Reactor}, and where the reactor is in its life (open, closing, closed).
 *
 * <p>At most one thread owns the loop at a time: the one inside {@code poll()}/{@code run()}, the thread
 * {@code start()} made, or a thread performing the close. Closing is two-step: {@link #requestClose()} from any
 * thread, then the owner (or, when no one owns the loop, the closing thread itself) runs the close action once.
 */
final class LoopOwner {
    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;

    /** The reactor whose loop (or close) the calling thread is running now; see {@link Reactor#current()}. */
    static final ThreadLocal<Reactor> CURRENT = new ThreadLocal<>();

    private final Reactor reactor;
    private final String name;
    private final Runnable closeAction;
    private final AtomicReference<Thread> owner = new AtomicReference<>();
    private final AtomicInteger state = new AtomicInteger(OPEN);
    /** Completed (on the closing thread) once the close action has finished. */
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();
    private volatile Thread loopThread;
    /** True while the owner is inside poll()/run() or the close; touched only by the owning thread. */
    private boolean busy;
    /** What {@link #CURRENT} was before the owner entered: a thread may run one reactor's close inside another's loop. */
    private Reactor outer;

    /**
     * @param name        the reactor's name, for messages
     * @param closeAction the reactor's close; run at most once per call, by the thread owning the loop, and
     *                    idempotent itself
     */
    LoopOwner(Reactor reactor, String name, Runnable closeAction) {
        this.reactor = reactor;
        this.name = name;
        this.closeAction = closeAction;
    }

    boolean isOpen() {
        return state.get() == OPEN;
    }

    /** Close was asked for but has not finished: the owner must run the close action when its iteration ends. */
    boolean closePending() {
        return state.get() == CLOSING;
    }

    /** The final drain has started: nothing queued from now on would run. */
    boolean isClosed() {
        return state.get() == CLOSED;
    }

    /** Moves OPEN to CLOSING; true for the one call that did. */
    boolean requestClose() {
        return state.compareAndSet(OPEN, CLOSING);
    }

    /** Called by the close action before its final drain of tasks. */
    void markClosed() {
        state.set(CLOSED);
    }

    /** Called by the close action when it has finished, successfully or not. */
    void terminated() {
        terminated.complete(null);
    }

    boolean awaitTermination(long nanos) throws InterruptedException {
        if (terminated.isDone()) {
            return true;
        }
        try {
            terminated.get(Math.max(0, nanos), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true; // never completed exceptionally; ended either way
        }
    }

    boolean isTerminated() {
        return terminated.isDone();
    }

    /** Completes once the reactor is closed; dependants run on the thread that closed it (or the caller's). */
    CompletableFuture<Void> terminationFuture() {
        return terminated;
    }

    boolean isOwned() {
        return owner.get() != null;
    }

    boolean ownedByCurrentThread() {
        return owner.get() == Thread.currentThread();
    }

    boolean inLoop() {
        return Thread.currentThread() == loopThread;
    }

    Thread loopThread() {
        return loopThread;
    }

    /** Claims the loop for a thread about to be started; it will {@link #enter} it itself. */
    void claimFor(Thread t, String op) {
        if (!owner.compareAndSet(null, t)) {
            throw alreadyRunning(op);
        }
        loopThread = t;
    }

    /**
     * Makes the calling thread the loop's owner for poll()/run().
     *
     * @throws IllegalStateException  if another thread owns the loop, or this thread is already inside it (a handler,
     *                                task or timer calling poll()/run())
     * @throws ClosedReactorException if close was requested
     */
    void enter(String op) {
        Thread me = Thread.currentThread();
        if (owner.get() == me) {
            if (busy) {
                // The outer call is still walking its event buffer; a nested iteration would overwrite that buffer
                // and its exit would disown the loop under the outer call's feet.
                throw new IllegalStateException(op + " on " + name + ": re-entrant call from a handler, task or timer"
                        + " of the running loop; return from it and let the loop go on");
            }
        } else if (!owner.compareAndSet(null, me)) {
            throw alreadyRunning(op);
        }
        loopThread = me;
        busy = true;
        outer = CURRENT.get();
        CURRENT.set(reactor);
        if (!isOpen()) {
            exit();
            throw new ClosedReactorException(op + ": " + name + " is closed");
        }
    }

    /** Gives the loop up after poll()/run(), running the close action first if close was requested meanwhile. */
    void exit() {
        try {
            if (closePending()) {
                closeAction.run();
            }
        } finally {
            disown();
        }
        // A close() from another thread may have failed to take ownership just before we let go.
        if (closePending()) {
            closeIfUnowned();
        }
    }

    /** Runs the close action as the owner if no thread owns the loop; false if one does. */
    boolean closeIfUnowned() {
        Thread me = Thread.currentThread();
        if (!owner.compareAndSet(null, me)) {
            return false;
        }
        loopThread = me;
        busy = true;
        outer = CURRENT.get();
        CURRENT.set(reactor);
        try {
            closeAction.run();
        } finally {
            disown();
        }
        return true;
    }

    private void disown() {
        if (busy) {
            // set(null), not remove(): remove() drops the thread's map entry, and the next poll()'s get() would
            // allocate a new one (32 bytes per poll() measured on the poll-driven dispatch path).
            CURRENT.set(outer);
            outer = null;
        }
        busy = false;
        loopThread = null;
        owner.set(null);
    }

    /**
     * Waits until the owner has closed the reactor, taking the close over if the owner lets go without closing, and
     * calling {@code nudge} (a wake-up) every 100 ms in case the owner is asleep.
     */
    void awaitClose(Runnable nudge) {
        try {
            while (!awaitTermination(TimeUnit.MILLISECONDS.toNanos(100))) {
                if (closeIfUnowned()) {
                    return;
                }
                nudge.run();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Throws unless the calling thread may change loop-confined state (it runs the loop, or no one does). */
    void checkLoopThread(String op) {
        Thread t = loopThread;
        if (t != null && t != Thread.currentThread()) {
            throw new IllegalStateException(op + " must run on " + name + "'s thread (" + t.getName()
                    + "); use reactor.execute(...) from other threads");
        }
    }

    private IllegalStateException alreadyRunning(String op) {
        Thread other = owner.get();
        return new IllegalStateException(op + " on " + name + ": already running on thread "
                + (other == null ? "?" : other.getName()));
    }
}
