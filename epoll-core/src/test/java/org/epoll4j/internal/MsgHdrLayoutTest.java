package org.epoll4j.internal;

import org.epoll4j.testutil.FdLeakCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-built {@code struct msghdr} is checked against the kernel, and a wrong layout would be caught; the
 * SCM_RIGHTS control messages fd passing builds and parses travel through a real socketpair.
 */
@ExtendWith(FdLeakCheck.class)
@Timeout(10)
class MsgHdrLayoutTest {
    @Test
    void layoutMatchesTheKernel() {
        assertNull(MsgHdr.check(MsgHdr.MSG_IOV, MsgHdr.MSG_IOVLEN));
        MsgHdr.verifyLayout();
        MsgHdr.verifyLayout(); // once is enough; a second call is free
    }

    @Test
    void anScmRightsMessagePassesAPipeEnd() {
        assertNull(MsgHdr.checkRights(LibC.impl()));
    }

    @Test
    void rightsAreParsedFromEveryScmRightsMessageAndOthersAreSkipped() {
        java.nio.ByteBuffer control = NativeMemory.allocate(MsgHdr.RIGHTS_CONTROL_MAX);
        // an SCM_CREDENTIALS message first (12 bytes of ucred, padded to 16), then SCM_RIGHTS with three fds
        int at = MmsgHdr.putCmsgHeader(control, 0, LibC.SOL_SOCKET, 2, 12);
        assertEquals(MmsgHdr.cmsgSpace(12), at);
        java.nio.ByteBuffer rest = control.slice(at, control.capacity() - at).order(control.order());
        int len = at + MsgHdr.putRights(rest, new int[] {7, 8, 9});
        assertEquals(MmsgHdr.cmsgLen(12), control.getLong(0));
        assertEquals(MmsgHdr.cmsgLen(12), rest.getLong(0));
        assertArrayEquals(new int[] {7, 8, 9}, MsgHdr.rights(control, len));
        assertArrayEquals(new int[0], MsgHdr.rights(control, 0));
        // a message cut short (MSG_CTRUNC shortens msg_controllen) yields only what is whole
        assertArrayEquals(new int[0], MsgHdr.rights(control, at + MmsgHdr.cmsgLen(12) - 1));
        assertEquals(MmsgHdr.cmsgSpace(4 * 253) + MmsgHdr.cmsgSpace(12), MsgHdr.RIGHTS_CONTROL_MAX);
    }

    @Test
    void aWrongLayoutIsReported() {
        // msg_iov where msg_namelen and its padding are: the kernel sees a NULL msg_iov with two entries.
        String problem = MsgHdr.check(8, MsgHdr.MSG_IOVLEN);
        assertNotNull(problem);
        assertTrue(problem.contains("EFAULT"), problem);
        // one iovec counted instead of two: only "abc" arrives
        String shortWrite = MsgHdr.check(MsgHdr.MSG_IOV, 32);
        assertNotNull(shortWrite);
    }
}
