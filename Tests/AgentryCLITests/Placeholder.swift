// Tests of the agentry executable as a process arrive below.
