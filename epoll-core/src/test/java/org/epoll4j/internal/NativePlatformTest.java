package org.epoll4j.internal;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which platforms the binding accepts, and the epoll_event layout it picks for each (issue 6 item 11). */
class NativePlatformTest {
    @ParameterizedTest
    @ValueSource(strings = {"amd64", "x86_64"})
    void x86_64IsPacked(String arch) {
        NativePlatform.EpollEventLayout l = NativePlatform.epollEventLayout(arch);
        assertEquals(12, l.size);
        assertEquals(4, l.dataOffset);
    }

    @Test
    void aarch64IsNaturallyAligned() {
        NativePlatform.EpollEventLayout l = NativePlatform.epollEventLayout("aarch64");
        assertEquals(16, l.size);
        assertEquals(8, l.dataOffset);
    }

    @ParameterizedTest
    @ValueSource(strings = {"x86", "i386", "arm", "riscv32", "riscv64", "ppc64le", "s390x", "mips64el", "sparcv9", ""})
    void otherArchitecturesAreRejected(String arch) {
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> NativePlatform.epollEventLayout(arch));
        assertTrue(e.getMessage().contains("x86_64 and aarch64"), e.getMessage());
        assertTrue(e.getMessage().contains("os.arch=" + arch), e.getMessage());
    }

    @Test
    void onlyLp64LinuxIsSupported() {
        assertNull(NativePlatform.unsupportedReason("Linux", "amd64", 8, 8));
        assertNull(NativePlatform.unsupportedReason("Linux", "aarch64", 8, 8));
        assertTrue(NativePlatform.unsupportedReason("Mac OS X", "aarch64", 8, 8).contains("os.name=Mac OS X"));
        assertTrue(NativePlatform.unsupportedReason("Linux", "arm", 4, 4).contains("os.arch=arm"));
        String ilp32 = NativePlatform.unsupportedReason("Linux", "amd64", 4, 4); // an x32-style JVM
        assertTrue(ilp32.contains("LP64") && ilp32.contains("4-byte pointers"), ilp32);
    }

    @Test
    void thisPlatformIsSupportedAndItsLayoutIsTheOneInUse() {
        NativePlatform.requireSupported();
        NativePlatform.EpollEventLayout l = NativePlatform.epollEventLayout(System.getProperty("os.arch"));
        assertEquals(l.size, EventBuffer.EVENT_SIZE);
        assertEquals(l.dataOffset, EventBuffer.DATA_OFFSET);
        EventBuffer.verifyLayout();
    }
}
