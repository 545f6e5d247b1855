package org.epoll4j.examples.resp;

import java.util.Arrays;

/** A Redis list: a ring buffer of values with O(1) push and pop at both ends and O(1) indexing (for LRANGE). */
final class ByteList {
    private byte[][] items = new byte[4][];
    private int head;
    private int size;
    private long bytes;

    /** The values' bytes (memory estimate). */
    long bytes() {
        return bytes;
    }

    int size() {
        return size;
    }

    void addFirst(byte[] v) {
        grow();
        head = (head - 1) & (items.length - 1);
        items[head] = v;
        size++;
        bytes += v.length;
    }

    void addLast(byte[] v) {
        grow();
        items[(head + size) & (items.length - 1)] = v;
        size++;
        bytes += v.length;
    }

    byte[] pollFirst() {
        byte[] v = items[head];
        items[head] = null;
        head = (head + 1) & (items.length - 1);
        size--;
        bytes -= v.length;
        return v;
    }

    byte[] pollLast() {
        int i = (head + size - 1) & (items.length - 1);
        byte[] v = items[i];
        items[i] = null;
        size--;
        bytes -= v.length;
        return v;
    }

    /** Replaces the value at {@code index}. */
    void set(int index, byte[] v) {
        int i = (head + index) & (items.length - 1);
        bytes += v.length - items[i].length;
        items[i] = v;
    }

    byte[] get(int index) {
        return items[(head + index) & (items.length - 1)];
    }

    private void grow() {
        if (size < items.length) {
            return;
        }
        byte[][] bigger = new byte[items.length * 2][];
        for (int i = 0; i < size; i++) {
            bigger[i] = get(i);
        }
        items = bigger;
        head = 0;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < size; i++) {
            b.append(i == 0 ? "" : ", ").append(Arrays.toString(get(i)));
        }
        return b.append(']').toString();
    }
}
