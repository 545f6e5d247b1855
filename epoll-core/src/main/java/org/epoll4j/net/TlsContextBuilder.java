package org.epoll4j.net;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Builds the {@link SSLContext} under a {@link TlsConfig} from files, like Netty's {@code SslContextBuilder}: a PEM
 * certificate chain and private key (PKCS#8, encrypted PKCS#8, PKCS#1 RSA or SEC1 EC, as openssl writes them) or a
 * PKCS#12/JKS key store; trusted certificates from PEM or a key store; on any JSSE provider. Files are read by
 * {@link #build()}, whose errors name the file and what was wrong.
 *
 * <pre>{@code
 * TlsConfig server = TlsContextBuilder.forServer(Path.of("chain.pem"), Path.of("key.pem")).toConfig();
 * TlsConfig client = TlsContextBuilder.forClient().trust(Path.of("ca.pem")).toConfig();
 * }</pre>
 *
 * <p>Not thread-safe; each method returns this builder. The context is a fresh one per {@link #build()}.
 */
public final class TlsContextBuilder {
    private final boolean client;
    private Path chainFile;
    private Path keyFile;
    private char[] keyPassword;
    private Path keyStoreFile;
    private char[] keyStorePassword;
    private final List<Object> trust = new ArrayList<>(); // Path (PEM or key store), X509Certificate
    private final List<char[]> trustPasswords = new ArrayList<>();
    private Provider provider;
    private String providerName;
    private int sessionCacheSize = -1;
    private Duration sessionTimeout;

    private TlsContextBuilder(boolean client) {
        this.client = client;
    }

    /**
     * A server's context from PEM files.
     *
     * @param certChain the server's certificate first, then the intermediates (the CA's root may be left out)
     * @param key its private key, unencrypted
     * @return the builder
     */
    public static TlsContextBuilder forServer(Path certChain, Path key) {
        return new TlsContextBuilder(false).keyMaterial(certChain, key, null);
    }

    /**
     * A server's context from PEM files with an encrypted key ({@code BEGIN ENCRYPTED PRIVATE KEY}).
     *
     * @param certChain the server's certificate first, then the intermediates
     * @param key its private key
     * @param keyPassword the key's password
     * @return the builder
     */
    public static TlsContextBuilder forServer(Path certChain, Path key, char[] keyPassword) {
        return new TlsContextBuilder(false).keyMaterial(certChain, key, Objects.requireNonNull(keyPassword, "keyPassword"));
    }

    /**
     * A server's context from a key store file (PKCS#12 or JKS, detected) whose key entry has the store's password.
     *
     * @param keyStore e.g. {@code server.p12} from {@code openssl pkcs12 -export} or {@code keytool}
     * @param password the store's (and its key's) password
     * @return the builder
     */
    public static TlsContextBuilder forServer(Path keyStore, char[] password) {
        return new TlsContextBuilder(false).keyStore(keyStore, password);
    }

    /**
     * A client's context: trusts the JDK's default CAs unless {@link #trust} is given; no certificate of its own
     * unless {@link #keyMaterial} or {@link #keyStore} is.
     *
     * @return the builder
     */
    public static TlsContextBuilder forClient() {
        return new TlsContextBuilder(true);
    }

    /**
     * This side's certificate chain and key from PEM files (a client's, for client authentication).
     *
     * @param certChain this side's certificate first, then the intermediates
     * @param key its private key
     * @param keyPassword the key's password, or null for an unencrypted key
     * @return this builder
     */
    public TlsContextBuilder keyMaterial(Path certChain, Path key, char[] keyPassword) {
        this.chainFile = Objects.requireNonNull(certChain, "certChain");
        this.keyFile = Objects.requireNonNull(key, "key");
        this.keyPassword = keyPassword == null ? null : keyPassword.clone();
        this.keyStoreFile = null;
        return this;
    }

    /**
     * This side's key from a key store file (PKCS#12 or JKS) instead of PEM files.
     *
     * @param keyStore the file
     * @param password the store's and its key's password
     * @return this builder
     */
    public TlsContextBuilder keyStore(Path keyStore, char[] password) {
        this.keyStoreFile = Objects.requireNonNull(keyStore, "keyStore");
        this.keyStorePassword = Objects.requireNonNull(password, "password").clone();
        this.chainFile = null;
        this.keyFile = null;
        return this;
    }

    /**
     * Trusts the certificates in a PEM file (every {@code BEGIN CERTIFICATE} block: CAs or self-signed peers) instead
     * of the JDK's default CAs: a client's trust in servers, a server's trust in clients ({@link
     * TlsConfig#clientAuth}). May be called more than once; the certificates add up.
     *
     * @param pem the file
     * @return this builder
     */
    public TlsContextBuilder trust(Path pem) {
        trust.add(Objects.requireNonNull(pem, "pem"));
        trustPasswords.add(null);
        return this;
    }

    /**
     * Trusts every certificate in a key store file (PKCS#12 or JKS, e.g. a copy of the JDK's {@code cacerts}).
     *
     * @param keyStore the file
     * @param password its password (a PKCS#12 trust store may have none: an empty array)
     * @return this builder
     */
    public TlsContextBuilder trust(Path keyStore, char[] password) {
        trust.add(Objects.requireNonNull(keyStore, "keyStore"));
        trustPasswords.add(Objects.requireNonNull(password, "password").clone());
        return this;
    }

    /**
     * Trusts these certificates.
     *
     * @param certificates CAs or self-signed peers
     * @return this builder
     */
    public TlsContextBuilder trust(X509Certificate... certificates) {
        for (X509Certificate c : certificates) {
            trust.add(Objects.requireNonNull(c, "certificate"));
            trustPasswords.add(null);
        }
        return this;
    }

    /**
     * The JSSE provider whose {@code SSLContext} (and so whose {@code SSLEngine}) to use, by its registered name
     * ({@link Security#getProvider}), e.g. {@code "SunJSSE"} (the default) or {@code "Conscrypt"} once installed.
     *
     * @param name the provider's name
     * @return this builder
     */
    public TlsContextBuilder provider(String name) {
        this.providerName = Objects.requireNonNull(name, "name");
        this.provider = null;
        return this;
    }

    /**
     * The JSSE provider whose {@code SSLContext} to use, e.g. {@code Conscrypt.newProvider()}; it need not be
     * installed in {@link Security}. A provider with key factories of its own (Conscrypt) gets the private key as its
     * own key object, converted once: given the JDK's key, Conscrypt re-parses it on every handshake.
     *
     * @param provider the provider
     * @return this builder
     */
    public TlsContextBuilder provider(Provider provider) {
        this.provider = Objects.requireNonNull(provider, "provider");
        this.providerName = null;
        return this;
    }

    /**
     * How many sessions the context caches for resumption (TLS 1.2 session IDs; the JDK's TLS 1.3 and TLS 1.2
     * tickets are stateless and do not need it). Zero: no limit. Default: the provider's (the JDK: 20480).
     *
     * @param size the number of sessions
     * @return this builder
     */
    public TlsContextBuilder sessionCacheSize(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("sessionCacheSize must not be negative: " + size);
        }
        this.sessionCacheSize = size;
        return this;
    }

    /**
     * How long a session may be resumed (and a ticket is valid). Default: the provider's (the JDK: 24 hours).
     *
     * @param timeout at least one second
     * @return this builder
     */
    public TlsContextBuilder sessionTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "sessionTimeout");
        if (timeout.getSeconds() < 1 || timeout.getSeconds() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("sessionTimeout must be 1 s to 68 years: " + timeout);
        }
        this.sessionTimeout = timeout;
        return this;
    }

    /**
     * Reads the files and builds a new context.
     *
     * @return the context
     * @throws IOException a file is missing, unreadable or malformed, or a key does not match its certificate (the
     *                     message names the file)
     * @throws GeneralSecurityException the provider is unknown or refuses the material
     */
    public SSLContext build() throws IOException, GeneralSecurityException {
        if (!client && chainFile == null && keyStoreFile == null) {
            throw new IllegalStateException("a server needs a certificate and key: forServer(chain, key) or a key store");
        }
        KeyManager[] keyManagers = keyManagers();
        TrustManager[] trustManagers = trustManagers();
        SSLContext ctx;
        if (provider != null) {
            ctx = SSLContext.getInstance("TLS", provider);
        } else if (providerName != null) {
            Provider p = Security.getProvider(providerName);
            if (p == null || p.getService("SSLContext", "TLS") == null) {
                throw new GeneralSecurityException("no installed provider \"" + providerName + "\" offers an "
                        + "SSLContext (TLS); installed ones that do: " + sslProviders()
                        + ". Install it (Security.addProvider) or pass the Provider object");
            }
            ctx = SSLContext.getInstance("TLS", p);
        } else {
            ctx = SSLContext.getInstance("TLS");
        }
        // the provider's own key objects: an engine with native crypto (Conscrypt) would convert JDK keys per handshake
        ctx.init(ProviderKeyManager.wrap(keyManagers, ctx.getProvider()), trustManagers, null);
        SSLSessionContext sessions = client ? ctx.getClientSessionContext() : ctx.getServerSessionContext();
        if (sessions != null) {
            if (sessionCacheSize >= 0) {
                sessions.setSessionCacheSize(sessionCacheSize);
            }
            if (sessionTimeout != null) {
                sessions.setSessionTimeout((int) sessionTimeout.getSeconds());
            }
        }
        return ctx;
    }

    /**
     * {@link #build()} under a {@link TlsConfig} of the matching side, with its defaults.
     *
     * @return {@code TlsConfig.server(build())} or {@code TlsConfig.client(build())}
     * @throws IOException as {@link #build()}
     * @throws GeneralSecurityException as {@link #build()}
     */
    public TlsConfig toConfig() throws IOException, GeneralSecurityException {
        SSLContext ctx = build();
        return client ? TlsConfig.client(ctx) : TlsConfig.server(ctx);
    }

    private KeyManager[] keyManagers() throws IOException, GeneralSecurityException {
        KeyStore ks;
        char[] pw;
        if (keyStoreFile != null) {
            pw = keyStorePassword;
            ks = loadKeyStore(keyStoreFile, pw);
            boolean hasKey = false;
            for (String alias : java.util.Collections.list(ks.aliases())) {
                hasKey |= ks.isKeyEntry(alias);
            }
            if (!hasKey) {
                throw new IOException(keyStoreFile + ": the key store holds no private key entry (only certificates?)");
            }
        } else if (chainFile != null) {
            List<X509Certificate> chain = PemFiles.certificates(chainFile);
            PrivateKey key = PemFiles.privateKey(keyFile, keyPassword);
            PemFiles.checkPair(keyFile, key, chainFile, chain.get(0));
            pw = "in-memory".toCharArray(); // protects the entry in this throwaway store only
            ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("key", key, pw, chain.toArray(new X509Certificate[0]));
        } else {
            return null;
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        try {
            kmf.init(ks, pw);
        } catch (java.security.UnrecoverableKeyException e) {
            throw new IOException(keyStoreFile + ": the key entry's password differs from the store's: " + e, e);
        }
        return kmf.getKeyManagers();
    }

    private TrustManager[] trustManagers() throws IOException, GeneralSecurityException {
        if (trust.isEmpty()) {
            return null; // the JDK's default CAs
        }
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        int n = 0;
        for (int i = 0; i < trust.size(); i++) {
            Object t = trust.get(i);
            if (t instanceof X509Certificate c) {
                ts.setCertificateEntry("trusted-" + n++, c);
            } else if (trustPasswords.get(i) == null) {
                for (X509Certificate c : PemFiles.certificates((Path) t)) {
                    ts.setCertificateEntry("trusted-" + n++, c);
                }
            } else {
                Path file = (Path) t;
                KeyStore ks = loadKeyStore(file, trustPasswords.get(i));
                int before = n;
                for (String alias : java.util.Collections.list(ks.aliases())) {
                    java.security.cert.Certificate c = ks.getCertificate(alias);
                    if (c != null) {
                        ts.setCertificateEntry("trusted-" + n++, c);
                    }
                }
                if (n == before) {
                    throw new IOException(file + ": the trust store holds no certificate");
                }
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ts);
        return tmf.getTrustManagers();
    }

    private static KeyStore loadKeyStore(Path file, char[] password) throws IOException, GeneralSecurityException {
        try {
            return KeyStore.getInstance(file.toFile(), password); // detects PKCS#12 or JKS
        } catch (IOException e) {
            if (e.getCause() instanceof java.security.UnrecoverableKeyException) {
                throw new IOException(file + ": wrong key store password", e);
            }
            throw new IOException(file + ": cannot read it as a PKCS#12 or JKS key store (wrong password, or a PEM "
                    + "file? use forServer(chain, key) for PEM): " + e.getMessage(), e);
        } catch (java.security.KeyStoreException e) {
            throw new IOException(file + ": not a PKCS#12 or JKS key store (a PEM file? use forServer(chain, key)): "
                    + e.getMessage(), e);
        }
    }

    private static String sslProviders() {
        List<String> names = new ArrayList<>();
        for (Provider p : Security.getProviders()) {
            if (p.getService("SSLContext", "TLS") != null) {
                names.add(p.getName());
            }
        }
        return names.toString();
    }

    @Override
    public String toString() {
        return "TlsContextBuilder[" + (client ? "client" : "server")
                + (chainFile != null ? ", " + chainFile + " + " + keyFile : "")
                + (keyStoreFile != null ? ", " + keyStoreFile : "")
                + (trust.isEmpty() ? "" : ", trust " + Arrays.toString(trust.toArray()))
                + (provider != null ? ", " + provider.getName() : providerName != null ? ", " + providerName : "") + "]";
    }
}
