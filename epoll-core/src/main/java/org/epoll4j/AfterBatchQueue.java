package org.epoll4j;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The tasks {@link Reactor#afterBatch} holds for the end of the loop's current phase. Loop thread only: an array
 * reused from phase to phase, so scheduling allocates nothing once it has grown to the most tasks one phase holds.
 */
final class AfterBatchQueue {
    private Runnable[] tasks = new Runnable[16];
    private int size;

    void add(Runnable task) {
        if (size == tasks.length) {
            tasks = Arrays.copyOf(tasks, size * 2);
        }
        tasks[size++] = task;
    }

    /** Drops what is left (the reactor closed). */
    void clear() {
        Arrays.fill(tasks, 0, size, null);
        size = 0;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /**
     * Runs the tasks added before this call, in order; a throwing one goes to {@code failure} and the rest still run.
     * Tasks they add wait for the next call, so one that schedules itself again cannot hold the loop in one pass.
     */
    void run(Consumer<Throwable> failure) {
        int n = size;
        for (int i = 0; i < n; i++) {
            Runnable t = tasks[i];
            tasks[i] = null;
            try {
                t.run();
            } catch (Throwable e) {
                failure.accept(e);
            }
        }
        int rest = size - n;
        System.arraycopy(tasks, n, tasks, 0, rest);
        Arrays.fill(tasks, rest, size, null);
        size = rest;
    }
}
