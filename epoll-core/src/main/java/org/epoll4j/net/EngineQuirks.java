package org.epoll4j.net;

import javax.net.ssl.SSLEngine;
import java.lang.reflect.Method;

/**
 * What a JSSE provider's engine needs beyond the standard API, applied to every engine {@link TlsConfig} makes. Only
 * Conscrypt (BoringSSL) needs anything: its server engines have session tickets off unless asked (so TLS 1.3 clients
 * could never resume), turned on here through {@code org.conscrypt.Conscrypt.setUseSessionTickets}, found by
 * reflection because the provider is the user's optional dependency, not the library's.
 */
final class EngineQuirks {
    private static final String CONSCRYPT_PACKAGE = "org.conscrypt.";
    /** {@code Conscrypt.setUseSessionTickets(SSLEngine, boolean)}, looked up once per class loader of an engine. */
    private static volatile Method useSessionTickets;
    private static volatile ClassLoader lookedUpIn;

    private EngineQuirks() {
    }

    /** Applies what {@code engine}'s provider needs; a provider without quirks costs one class-name check. */
    static void apply(SSLEngine engine) {
        if (!engine.getClass().getName().startsWith(CONSCRYPT_PACKAGE)) {
            return;
        }
        Method m = conscryptTickets(engine.getClass().getClassLoader());
        if (m != null) {
            try {
                m.invoke(null, engine, true);
            } catch (ReflectiveOperationException | RuntimeException e) {
                // an older or newer Conscrypt without it: the engine works, TLS 1.3 resumption does not
            }
        }
    }

    private static Method conscryptTickets(ClassLoader loader) {
        if (lookedUpIn == loader && useSessionTickets != null) {
            return useSessionTickets;
        }
        try {
            Class<?> c = Class.forName(CONSCRYPT_PACKAGE + "Conscrypt", false, loader);
            Method m = c.getMethod("setUseSessionTickets", SSLEngine.class, boolean.class);
            useSessionTickets = m;
            lookedUpIn = loader;
            return m;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }
}
