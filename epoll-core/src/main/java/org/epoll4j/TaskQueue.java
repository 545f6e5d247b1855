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
        int ran = 0;
        Runnable task;
        while (ran < max && (task = tasks.poll()) != null) {
            ran++;
            run(task, onFailure);
        }
        return ran;
    }

    /** Runs tasks until the queue is empty, including those the tasks add. */
    int runAll(Consumer<Throwable> onFailure) {
        return runSome(Integer.MAX_VALUE, onFailure);
    }

    private static void run(Runnable task, Consumer<Throwable> onFailure) {
        try {
            task.run();
        } catch (Throwable e) {
            onFailure.accept(e);
        }
    }
}
