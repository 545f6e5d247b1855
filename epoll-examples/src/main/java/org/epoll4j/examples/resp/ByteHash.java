package org.epoll4j.examples.resp;

import java.util.HashMap;

/** A Redis hash: fields to values, with a running byte count for the memory estimate. */
final class ByteHash {
    final HashMap<Bytes, byte[]> map = new HashMap<>();
    private long bytes;

    int size() {
        return map.size();
    }

    /** The fields' and values' bytes (memory estimate). */
    long bytes() {
        return bytes;
    }

    byte[] get(Bytes field) {
        return map.get(field);
    }

    /** Sets {@code field} (a probe is copied when new) to {@code value}; true if the field is new. */
    boolean put(Bytes field, byte[] value) {
        byte[] old = map.get(field);
        if (old != null) {
            map.put(field, value); // the existing key object stays in the map
            bytes += value.length - old.length;
            return false;
        }
        Bytes own = field.copy();
        map.put(own, value);
        bytes += own.length() + value.length;
        return true;
    }

    /** Removes {@code field}; true if it was there. */
    boolean remove(Bytes field) {
        byte[] old = map.remove(field);
        if (old == null) {
            return false;
        }
        bytes -= field.length() + old.length;
        return true;
    }
}
