package org.epoll4j.jmh.sys;

import org.epoll4j.internal.LibC;
import org.epoll4j.internal.NativeMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The select(2) binding never lets an fd at or past FD_SETSIZE reach the 128-byte fd_set or the kernel. */
@Timeout(30)
class FdSetTest {
    /** Open eventfds only: other threads of the JVM (JIT, GC, class loading) open and close files meanwhile. */
    private static int openFds() {
        File[] fds = new File("/proc/self/fd").listFiles();
        if (fds == null) {
            return -1;
        }
        int n = 0;
        for (File f : fds) {
            try {
                if (java.nio.file.Files.readSymbolicLink(f.toPath()).toString().contains("eventfd")) {
                    n++;
                }
            } catch (java.io.IOException gone) {
                // closed since it was listed
            }
        }
        return n;
    }

    @Test
    void bitsLandWhereGlibcPutsThem() {
        FdSet s = new FdSet();
        s.clear();
        for (int fd : new int[]{0, 63, 64, 1023}) {
            assertFalse(s.isSet(fd));
            s.set(fd);
            assertTrue(s.isSet(fd));
        }
        assertEquals(0, s.firstSet(1024));
        FdSet copy = new FdSet();
        copy.copyFrom(s);
        assertTrue(copy.isSet(1023));
        copy.clear();
        assertEquals(-1, copy.firstSet(1024));
        copy.set(64);
        assertEquals(64, copy.firstSet(1024));
        assertEquals(-1, copy.firstSet(64), "bits at or past nfds do not count");
    }

    @Test
    void refusesFdNumbersOutsideTheSet() {
        FdSet s = new FdSet();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.set(Select.FD_SETSIZE));
        assertTrue(e.getMessage().contains("fd 1024") && e.getMessage().contains("FD_SETSIZE"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.set(-1));
        assertThrows(IllegalArgumentException.class, () -> s.isSet(5000));
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class,
                () -> Select.select(Select.FD_SETSIZE + 1, s, 0L));
        assertTrue(n.getMessage().contains("nfds=1025"), n.getMessage());
    }

    /** Opens eventfds until the kernel hands out fd numbers past FD_SETSIZE; only the ones below can be selected. */
    @Test
    void realFdsPastFdSetSizeAreRefusedAndThoseBelowWork() {
        assumeTrue(FdLimit.soft() > Select.FD_SETSIZE + 128, "needs ulimit -n > 1152");
        int before = openFds();
        List<Integer> fds = new ArrayList<>();
        try {
            int fd;
            do {
                fd = LibC.eventfd(0, LibC.EFD_NONBLOCK | LibC.EFD_CLOEXEC);
                assertTrue(fd >= 0, "eventfd failed: errno " + LibC.errno());
                fds.add(fd);
            } while (fd < Select.FD_SETSIZE);
            int high = fd;
            int low = fds.get(0);
            assertTrue(low < Select.FD_SETSIZE);
            FdSet s = new FdSet();
            s.clear();
            assertThrows(IllegalArgumentException.class, () -> s.set(high));
            assertThrows(IllegalArgumentException.class, () -> Select.select(high + 1, s, 0L));

            ByteBuffer one = NativeMemory.allocate(8).putLong(0, 1L);
            assertEquals(8, LibC.write(low, NativeMemory.address(one), 8));
            ByteBuffer timeval = NativeMemory.allocate(16);
            s.set(low);
            s.set(fds.get(1));
            int nfds = Math.max(low, fds.get(1)) + 1;
            assertEquals(1, Select.select(nfds, s, NativeMemory.address(timeval)));
            assertTrue(s.isSet(low));
            assertFalse(s.isSet(fds.get(1)), "the kernel cleared the fd that is not ready");
        } finally {
            fds.forEach(LibC::close);
        }
        assertEquals(before, openFds(), "fds leaked");
    }

    @Test
    void tooLowFdLimitIsNamedWithTheFix() {
        long soft = FdLimit.soft();
        assumeTrue(soft < Long.MAX_VALUE - 1);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> FdLimit.require(soft + 1, "this test"));
        assertTrue(e.getMessage().contains("ulimit -n"), e.getMessage());
    }
}
