package org.epoll4j;

import java.util.Arrays;

/**
 * A binary min-heap of timers by deadline, then by scheduling order. A heap rather than a wheel: deadlines stay
 * exact to the nanosecond (a wheel rounds to its tick), insert and cancel are O(log n), and cancelling removes the
 * entry at once so memory stays bounded however many timeouts are set and cancelled. Loop-thread only.
 */
final class TimerQueue {
    private ScheduledTask[] heap = new ScheduledTask[16];
    private int size;

    int size() {
        return size;
    }

    ScheduledTask peek() {
        return size == 0 ? null : heap[0];
    }

    void add(ScheduledTask t) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        t.heapIndex = size;
        heap[size] = t;
        siftUp(size++);
    }

    ScheduledTask poll() {
        if (size == 0) {
            return null;
        }
        ScheduledTask top = heap[0];
        removeAt(0);
        return top;
    }

    /** Removes {@code t} if it is in this heap. */
    void remove(ScheduledTask t) {
        int i = t.heapIndex;
        if (i >= 0 && i < size && heap[i] == t) {
            removeAt(i);
        }
    }

    /** Empties the queue, ending every pending timer as cancelled (its reactor is closing). */
    void cancelAll() {
        for (int i = 0; i < size; i++) {
            heap[i].heapIndex = -1;
            heap[i].cancelOnClose();
            heap[i] = null;
        }
        size = 0;
    }

    private void removeAt(int i) {
        ScheduledTask removed = heap[i];
        removed.heapIndex = -1;
        size--;
        if (i == size) {
            heap[size] = null;
            return;
        }
        ScheduledTask last = heap[size];
        heap[size] = null;
        heap[i] = last;
        last.heapIndex = i;
        siftDown(i);
        if (heap[i] == last) {
            siftUp(i);
        }
    }

    private void siftUp(int i) {
        ScheduledTask t = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            ScheduledTask p = heap[parent];
            if (!t.before(p)) {
                break;
            }
            heap[i] = p;
            p.heapIndex = i;
            i = parent;
        }
        heap[i] = t;
        t.heapIndex = i;
    }

    private void siftDown(int i) {
        ScheduledTask t = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && heap[right].before(heap[child])) {
                child = right;
            }
            if (!heap[child].before(t)) {
                break;
            }
            heap[i] = heap[child];
            heap[i].heapIndex = i;
            i = child;
        }
        heap[i] = t;
        t.heapIndex = i;
    }
}
