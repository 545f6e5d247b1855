package org.epoll4j;

import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A reactor's wake-up: an eventfd plus a three-state machine that makes {@link Reactor#wakeup()} sticky while
 * writing the eventfd only when the loop is actually asleep.
 *
 * <pre>
 *   AWAKE   --wakeup()-------------------------&gt; PENDING   (no write: the loop is busy and will look)
 *   AWAKE   --loop: {@link #prepareToSleep()}----&gt; SLEEPING
 *   SLEEPING --wakeup()------------------------&gt; PENDING   (writes the eventfd: the loop is or will be in the wait)
 *   PENDING --loop: prepareToSleep() / {@link #consume()}---&gt; AWAKE (the wait is skipped / the wake-up is used up)
 *   any     --loop: {@link #awake()} after the wait-----&gt; AWAKE
 * </pre>
 *
 * A wake-up that lands between the wait's return and {@link #awake()} saw SLEEPING and wrote the eventfd, so it is
 * not lost either: the next wait returns at once and reads it.
 */
final class WakeupSignal {
    private static final int AWAKE = 0;
    private static final int SLEEPING = 1;
    private static final int PENDING = 2;

    /** The value every write adds; the kernel only reads it, so all threads share one buffer. */
    private static final ByteBuffer ONE = NativeMemory.allocate(8).putLong(0, 1L);
    private static final long ONE_ADDR = NativeMemory.address(ONE);

    private final int eventFd;
    private final AtomicInteger state = new AtomicInteger(AWAKE);
    private final AtomicLong written = new AtomicLong();

    WakeupSignal(int eventFd) {
        this.eventFd = eventFd;
    }

    int fd() {
        return eventFd;
    }

    /** Any thread: makes the loop's current wait, or its next one, return at once. */
    void wakeup() {
        int s = state.get();
        while (s != PENDING) {
            int witness = state.compareAndExchange(s, PENDING);
            if (witness == s) {
                if (s == SLEEPING) {
                    write();
                }
                return;
            }
            s = witness;
        }
    }

    /** Loop thread, before a wait with a timeout: false if a wake-up is pending (consumed now: do not wait). */
    boolean prepareToSleep() {
        if (state.compareAndSet(AWAKE, SLEEPING)) {
            return true;
        }
        state.set(AWAKE); // it was PENDING: only the loop leaves that state
        return false;
    }

    /** Loop thread, before a wait that does not block: it uses up a pending wake-up, as Selector.selectNow does. */
    void consume() {
        if (state.get() == PENDING) {
            state.compareAndSet(PENDING, AWAKE);
        }
    }

    /** Loop thread, after a wait. */
    void awake() {
        state.setRelease(AWAKE);
    }

    /** Any thread: writes the eventfd whatever the state (close uses it to be sure). */
    void write() {
        if (LibC.write(eventFd, ONE_ADDR, 8) == 8) {
            written.incrementAndGet();
        }
    }

    long written() {
        return written.get();
    }
}
