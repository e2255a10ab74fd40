# Allocates memory until the sandbox's memory limit ends it.
print("allocating memory until the sandbox stops me", flush=True)
blocks = []
while True:
    blocks.append(bytearray(64 * 1024 * 1024))
    print(f"{len(blocks) * 64} MB", flush=True)
