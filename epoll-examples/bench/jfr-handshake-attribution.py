import json,collections,sys
d=json.load(open(sys.argv[1]))
ev=d['recording']['events']
cats=[('signature (ECDSA P-256, CertificateVerify; P-256 field math)',['ECDSASignature','ECDSAOperations','CertificateVerify','P256']),
('key exchange (X25519 / ECDH: key pair + shared secret)',['XDH','XECOperations','ECDHKeyAgreement','ECDHE','KeyShare','ECKeyPairGenerator','IntegerPolynomial25519']),
('key schedule (HKDF, HMAC, transcript hash)',['HKDF','SSLSecretDerivation','SSLTrafficKeyDerivation','SSLBasicKeyDerivation','HmacCore','HandshakeHash','Finished']),
('record crypto (AES-GCM)',['GaloisCounterMode','AESCrypt','GHASH','SSLCipher']),
('certificate message (X.509 encoding)',['X509','CertificateMessage','DerValue','DerInputStream','DerOutputStream']),
('provider / service lookup',['java/security/Provider','GetInstance','JceSecurity']),
]
top=collections.Counter()
for e in ev:
    st=e['values']['stackTrace']
    if not st: continue
    frames=[f['method']['type']['name']+'.'+f['method']['name'] for f in st['frames']]
    s=' '.join(frames)
    c=None
    for name,keys in cats:
        if any(k in s for k in keys):
            c=name;break
    if c is None:
        if any('org/epoll4j' in f and 'examples' not in f for f in frames[:2]): c='epoll4j driver, loop, syscalls (own frames on top)'
        elif any('sun/security/ssl' in f for f in frames): c='SSLEngine state machine and messages (other)'
        elif any('org/epoll4j/examples' in f for f in frames): c='http example (parsing, responses)'
        elif any('org/epoll4j' in f for f in frames): c='epoll4j, other'
        elif 'intpoly' in frames[0]: c='EC field arithmetic, caller cut off (key exchange or signature)'
        else: c='other JDK (collections, strings, digests)'
    top[c]+=1
n=sum(top.values())
print('samples',n)
for k,v in top.most_common(14): print(f"| {k} | {v/n*100:.1f}% |")
