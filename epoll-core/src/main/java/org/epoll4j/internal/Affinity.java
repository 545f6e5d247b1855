package org.epoll4j.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * CPU affinity of the calling thread through sched_getaffinity/sched_setaffinity (pid 0 = the calling thread).
 * Used off the hot path only: when a reactor thread starts. Bound through {@link LibC}'s binding.
 */
public final class Affinity {
    /** cpu_set_t as glibc defines it: 1024 bits. */
    private static final int CPU_SET_BYTES = 128;

    private Affinity() {
    }

    private static int sched_getaffinity(int pid, long cpusetsize, long mask) {
        return LibC.impl().sched_getaffinity(pid, cpusetsize, mask);
    }

    private static int sched_setaffinity(int pid, long cpusetsize, long mask) {
        return LibC.impl().sched_setaffinity(pid, cpusetsize, mask);
    }

    /**
     * The CPUs the calling thread may run on, in ascending order.
     *
     * @return the CPU numbers
     * @throws IllegalStateException if the kernel refuses to tell (it should not)
     */
    public static List<Integer> allowedCpus() {
        ByteBuffer set = NativeMemory.allocate(CPU_SET_BYTES);
        if (sched_getaffinity(0, CPU_SET_BYTES, NativeMemory.address(set)) != 0) {
            throw new IllegalStateException("sched_getaffinity(0): " + Errno.describe(LibC.errno()));
        }
        List<Integer> cpus = new ArrayList<>();
        for (int cpu = 0; cpu < CPU_SET_BYTES * 8; cpu++) {
            if ((set.get(cpu >>> 3) & (1 << (cpu & 7))) != 0) {
                cpus.add(cpu);
            }
        }
        return cpus;
    }

    /**
     * Pins the calling thread to {@code cpu}.
     *
     * @param cpu a CPU number, 0 to 1023
     * @return 0 on success, else the errno (EINVAL: the CPU is not available to this process)
     */
    public static int pinCurrentThread(int cpu) {
        if (cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
            throw new IllegalArgumentException("cpu must be 0.." + (CPU_SET_BYTES * 8 - 1) + ": " + cpu);
        }
        ByteBuffer set = NativeMemory.allocate(CPU_SET_BYTES);
        set.put(cpu >>> 3, (byte) (1 << (cpu & 7)));
        return sched_setaffinity(0, CPU_SET_BYTES, NativeMemory.address(set)) == 0 ? 0 : LibC.errno();
    }
}
