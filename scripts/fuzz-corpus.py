#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (testdata/fuzz/<Target>/) from
the realistic fixtures the tests already use: trust policies, pipeline files,
job logs and tokens. Run it again after adding fixtures; go test reads the
corpora on every run, and `make fuzz` mutates them."""
import base64, glob, hashlib, json, os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def lit(kind, value):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return f"{kind}({json.dumps(value)})"

def write(pkg, target, args):
    d = os.path.join(ROOT, pkg, "testdata", "fuzz", target)
    os.makedirs(d, exist_ok=True)
    body = "go test fuzz v1\n" + "\n".join(lit(k, v) for k, v in args) + "\n"
    name = "seed-" + hashlib.sha256(body.encode()).hexdigest()[:16]
    with open(os.path.join(d, name), "w") as f:
        f.write(body)

def read(path):
    with open(path, "rb") as f:
        return f.read()

def files(*patterns):
    out = []
    for p in patterns:
        out += sorted(glob.glob(os.path.join(ROOT, p)))
    return out

def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).rstrip(b"=").decode()

claims = {"iss": "https://gitlab.com", "aud": "https://gitlab.com", "sub": "project_path:acme/payments:ref_type:branch:ref:main",
          "project_id": "4242", "project_path": "acme/payments", "ref": "main", "ref_type": "branch", "ref_protected": "true",
          "namespace_id": "77", "namespace_path": "acme", "iat": 1747040000, "nbf": 1747039995, "exp": 1747043600, "jti": "0e9d1c2b"}
tokens = [
    b64({"alg": "RS256", "kid": "k1", "typ": "JWT"}) + "." + b64(claims) + "." + "c2lnbmF0dXJl",
    b64({"alg": "RS256", "kid": "k1"}) + "." + b64(dict(claims, aud=["a", "b"], exp="1747043600")) + ".",
    b64({"alg": "none"}) + "." + b64({"sub": "x"}) + ".",
    '"' + b64({"alg": "RS256"}) + "." + b64(claims) + '.sig"',
    b64({"alg": "ES256"}) + "." + b64(claims)[:40],
]
for t in tokens:
    write("internal/token", "FuzzParse", [("string", t)])
subs = ["project_path:acme/payments:ref_type:branch:ref:main", "project_path:acme/payments:ref_type:tag:ref:v2.3.0",
        "project_id:4242:ref_type:branch:ref:main:ref_protected:true", "project_path:Acme/Payments:ref_type:branch:ref:main"]
for a in subs:
    for b in subs[:2]:
        write("internal/token", "FuzzParseSub", [("string", a), ("string", b)])

policies = files("diagnose/testdata/audit/*.json", "internal/policy/testdata/*.json", "internal/policy/testdata/*.txt", "diagnose/testdata/policies/*")
for p in policies:
    write("internal/policy", "FuzzParse", [("[]byte", read(p))])
for p in policies[:8]:
    write("internal/policy", "FuzzEvaluate", [("[]byte", read(p)), ("string", "gitlab.com:sub"),
          ("string", "project_path:acme/payments:ref_type:branch:ref:main"), ("string", "sts:AssumeRoleWithWebIdentity")])
for pat, val in [("project_path:acme/*:ref_type:branch:ref:*", "project_path:acme/payments:ref_type:branch:ref:main"),
                 ("v?.*", "v2.3.0"), ("*a*a*a*a*a*b", "a" * 60), ("${*}literal", "*literal")]:
    write("internal/policy", "FuzzLike", [("string", pat), ("string", val)])

for p in files("diagnose/testdata/ci/*.yml", "steps/testdata/snippet/*.golden"):
    write("internal/cifile", "FuzzParse", [("[]byte", read(p))])

for p in files("diagnose/testdata/logs/*"):
    write("diagnose", "FuzzScanLog", [("string", read(p))])
for before, secret, after in [("AWS_ACCESS_KEY_ID=", "AKIAIOSFODNN7EXAMPLE", "\n"), ("export AWS_SECRET_ACCESS_KEY=", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", " done"),
                              ("token: ", tokens[0], "\n"), ("PRIVATE-TOKEN: ", "glpat-xxxxxxxxxxxxxxxxxxxx", "")]:
    write("diagnose", "FuzzMaskSecrets", [("string", before), ("string", secret), ("string", after)])
print("corpora written")
