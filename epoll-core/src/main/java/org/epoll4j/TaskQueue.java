package org.epoll4j;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * A reactor's queue of tasks from {@link Reactor#execute}: any thread adds, the loop thread runs them.
 *
 * <p>The promise: a task is either rejected or guaranteed to run. Adding checks that close has not begun, adds, and
 * then checks again whether the final drain has begun; if it has, the task may have missed it, so it is taken back
 * out and rejected (if it cannot be taken back, the drain ran it or will).
 */
final class TaskQueue {
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final LoopOwner life;

    TaskQueue(LoopOwner life) {
        this.life = life;
    }

    /** Queues {@code task}; false if it was rejected because the reactor is closing or closed. */
    boolean offer(Runnable task) {
        if (!life.isOpen()) {
            return false;
        }
        tasks.add(task);
        // The final drain starts after markClosed(). If we see CLOSED here, it may already have looked at the queue
        // (sequential consistency of the two volatile accesses on each side makes this the only case to handle).
        return !life.isClosed() || !tasks.remove(task);
    }

    boolean isEmpty() {
        return tasks.isEmpty();
    }

    /** Runs up to {@code max} tasks; returns how many ran. */
    int runSome(int max, Consumer<Throwable> onFailure) {
        return runSome(max, onFailure, null);
    }

    /**
     * As {@link #runSome(int, Consumer)}, telling {@code timing} (when not null) each task that returned normally
     * and the System.nanoTime at which it started.
     */
    int runSome(int max, Consumer<Throwable> onFailure, Timing timing) {
        int ran = 0;
        Runnable task;
        while (ran < max && (task = tasks.poll()) != null) {
            ran++;
            if (timing == null) {
                run(task, onFailure);
            } else {
                long start = System.nanoTime();
                if (run(task, onFailure)) {
                    timing.ran(task, start);
                }
            }
        }
        return ran;
    }

    /** Receives each timed task (for JFR's slow-dispatch event). */
    interface Timing {
        void ran(Runnable task, long startNanos);
    }

    /** Runs tasks until the queue is empty, including those the tasks add. */
    int runAll(Consumer<Throwable> onFailure) {
        return runSome(Integer.MAX_VALUE, onFailure);
    }

    private static boolean run(Runnable task, Consumer<Throwable> onFailure) {
        try {
            task.run();
            return true;
        } catch (Throwable e) {
            onFailure.accept(e);
            return false;
        }
    }
}
