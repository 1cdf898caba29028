#!/usr/bin/env python3
"""Writes internal/auth/common.txt: passwords any guesser tries first,
made from patterns (words, keyboard walks, sequences, years), not from any
leak or real data. Every entry is lower case; the check lower-cases the
password and also strips trailing digits and symbols."""
words = """password passw0rd passwd admin administrator root welcome letmein
login qwerty abc iloveyou monkey dragon sunshine princess football baseball
master shadow superman batman trustno1 secret changeme default guest user
test tester school teacher student taiwan taipei cihui referral social
worker committee bureau office computer internet whatever nothing freedom
summer winter spring autumn hello hellokitty lovely flower starwars""".split()
walks = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx", "1q2w3e4r5t",
         "qazwsxedc", "qwerasdfzxcv", "1qaz2wsx3edc", "zaq12wsx", "q1w2e3r4t5y6"]
out = set()
for n in range(6, 21):
    out.add("1234567890123456789012"[:n])
    out.add("0987654321"[:n] if n <= 10 else "0987654321" * 2)
    for c in "0123456789abcdefghijklmnopqrstuvwxyz":
        out.add(c * n)
for w in words + walks:
    out.add(w)
    for suffix in ["1", "12", "123", "1234", "12345", "123456", "!", "2024", "2025", "2026", "2027"]:
        out.add(w + suffix)
    for y in range(1950, 2031):
        out.add(w + str(y))
for y in range(1950, 2031):
    for m in range(1, 13):
        out.add(f"{y}{m:02d}01")
with open("internal/auth/common.txt", "w") as f:
    f.write("\n".join(sorted(out)) + "\n")
