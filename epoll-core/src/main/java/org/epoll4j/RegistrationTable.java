package org.epoll4j;

import java.util.Arrays;

/**
 * A reactor's live registrations, by slot (the low half of the epoll token) and by fd. Each slot has a
 * generation (the token's high half) that advances whenever the slot is freed, so a token that outlives its
 * registration no longer matches. Loop-thread only.
 */
final class RegistrationTable {
    private Registration[] slots = new Registration[64];
    private int[] generations = new int[64];
    private int[] freeSlots = new int[64];
    private int freeCount;
    private int highWater;
    private Registration[] byFd = new Registration[64];
    private int live;

    /** Reserves a slot; its registration must be {@link #put} or the slot {@link #release}d. */
    int allocate() {
        if (freeCount > 0) {
            return freeSlots[--freeCount];
        }
        if (highWater == slots.length) {
            int n = slots.length * 2;
            slots = Arrays.copyOf(slots, n);
            generations = Arrays.copyOf(generations, n);
            freeSlots = Arrays.copyOf(freeSlots, n);
        }
        return highWater++;
    }

    /** The slot's current generation, for the token of the registration about to take it. */
    int generation(int slot) {
        return generations[slot];
    }

    /** Frees a reserved slot and advances its generation. */
    void release(int slot) {
        generations[slot]++;
        freeSlots[freeCount++] = slot;
    }

    /** Stores a registration in its reserved slot and as the current one for its fd. */
    void put(Registration r) {
        slots[r.slot] = r;
        if (r.fd >= byFd.length) {
            byFd = Arrays.copyOf(byFd, Math.max(r.fd + 1, byFd.length * 2));
        }
        byFd[r.fd] = r;
        live++;
    }

    /** Removes a registration and frees its slot. */
    void remove(Registration r) {
        slots[r.slot] = null;
        release(r.slot);
        if (r.fd < byFd.length && byFd[r.fd] == r) {
            byFd[r.fd] = null;
        }
        live--;
    }

    /** The live registration a token belongs to, or {@code null} if the token is stale. */
    Registration lookup(long token) {
        int slot = (int) token;
        Registration[] table = slots;
        Registration r = slot >= 0 && slot < table.length ? table[slot] : null;
        return r != null && r.generation == (int) (token >>> 32) ? r : null;
    }

    /** The live registration for {@code fd}, or {@code null}. */
    Registration forFd(int fd) {
        return fd < byFd.length ? byFd[fd] : null;
    }

    /** Live registrations. */
    int size() {
        return live;
    }

    /** Every live registration, in slot order (a copy: the caller may end them while iterating). */
    Registration[] snapshot() {
        Registration[] out = new Registration[live];
        int n = 0;
        for (int i = 0; i < highWater && n < out.length; i++) {
            if (slots[i] != null) {
                out[n++] = slots[i];
            }
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }
}
