#!/usr/bin/env python3
"""pty-prompt: run a command on a new pseudo-terminal, answer its prompt as
a user would, and report what the terminal showed.

  pty-prompt.py PROMPT ANSWER_FILE OUTPUT -- COMMAND ARGS...

Waits (30 s at most) for PROMPT on the terminal, checks that the terminal
no longer echoes (a program must turn echo off before it prompts: what is
typed after the prompt would show otherwise), types the first line of ANSWER_FILE and a newline, then
collects everything the terminal shows until the command exits.  OUTPUT
gets that text; the exit status is the command's, or 100 when the prompt
never came, 101 when echo was still on at the prompt (the answer would
have shown)."""
import os
import select
import signal
import sys
import termios
import time


def main():
    prompt, answer_file, output = sys.argv[1:4]
    assert sys.argv[4] == '--'
    cmd = sys.argv[5:]
    with open(answer_file, 'rb') as f:
        answer = f.readline().rstrip(b'\n')
    pid, fd = os.forkpty()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    shown = b''
    status = None
    deadline = time.monotonic() + 30
    while prompt.encode() not in shown and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                shown += os.read(fd, 4096)
            except OSError:
                break
    if prompt.encode() not in shown:
        status = 100
        os.kill(pid, signal.SIGKILL)  # ours: it waits for an answer
    else:
        # the settings are the terminal's, seen through either side
        if termios.tcgetattr(fd)[3] & termios.ECHO:
            status = 101
        os.write(fd, answer + b'\n')
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break  # EIO: the command has exited and closed the terminal
        if not chunk:
            break
        shown += chunk
    _, st = os.waitpid(pid, 0)
    with open(output, 'wb') as f:
        f.write(shown)
    if status is None:
        status = os.waitstatus_to_exitcode(st)
    sys.exit(status)


main()
