// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The tiny binary the spawn storm execs: built static, so exec maps one file and no loader. */
int main(void)
{
	return 0;
}
