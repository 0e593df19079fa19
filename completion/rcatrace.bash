# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# bash completion for rcatrace(8). Installed as
# $(PREFIX)/share/bash-completion/completions/rcatrace by `make install`.

_rcatrace_units()
{
	# Unit names from the state file, when it is readable (dump reads it without root
	# only if allowed); silently nothing otherwise.
	local state=/var/lib/rcatrace/rcatrace.db i
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		case ${COMP_WORDS[i]} in
		-s | --state) state=${COMP_WORDS[i + 1]} ;;
		esac
	done
	[ -r "$state" ] || return 0
	rcatrace dump --json --state "$state" 2> /dev/null |
		grep -o '"unit": *"[^"\\]*"' | sed 's/.*"\([^"]*\)"$/\1/' | sort -u
}

_rcatrace()
{
	local cur prev cmd i
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		run | dump | timeline | history | report | help | version)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done

	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W 'run dump timeline history report help version --help --version' -- "$cur"))
		return 0
	fi

	case $cmd in
	run)
		case $prev in
		-s | --state)
			COMPREPLY=($(compgen -f -- "$cur"))
			return 0
			;;
		--textfile)
			COMPREPLY=($(compgen -d -- "$cur"))
			return 0
			;;
		-u | --unit)
			COMPREPLY=($(compgen -W "$(_rcatrace_units)" -- "$cur"))
			return 0
			;;
		--metrics-listen)
			COMPREPLY=($(compgen -W '9464 127.0.0.1:9464 [::1]:9464 0.0.0.0:9464' -- "$cur"))
			return 0
			;;
		--kill-signals)
			COMPREPLY=($(compgen -W 'HUP,INT,QUIT,ILL,ABRT,BUS,FPE,KILL,SEGV,TERM,XCPU,XFSZ,SYS TERM,KILL' -- "$cur"))
			return 0
			;;
		-d | --duration | -i | --interval | --state-interval | --growth-window | \
			--ringbuf-size | --max-units | --metrics-max-units | --max-db-size | --retain)
			return 0 # a value of the user's
			;;
		esac
		COMPREPLY=($(compgen -W '--json --duration --interval --unit --state --no-state
			--state-interval --ringbuf-size --max-units --kill-signals --growth-window
			--metrics-listen --textfile --metrics-max-units --max-db-size --retain
			--verbose --help' -- "$cur"))
		;;
	dump)
		case $prev in
		-s | --state)
			COMPREPLY=($(compgen -f -- "$cur"))
			return 0
			;;
		-u | --unit)
			COMPREPLY=($(compgen -W "$(_rcatrace_units)" -- "$cur"))
			return 0
			;;
		--since)
			COMPREPLY=($(compgen -W '30m 2h 1d 7d' -- "$cur"))
			return 0
			;;
		-n | --top)
			return 0
			;;
		esac
		COMPREPLY=($(compgen -W '--json --unit --top --since --state --help' -- "$cur"))
		;;
	timeline | history | report)
		case $prev in
		-s | --state | --html)
			COMPREPLY=($(compgen -f -- "$cur"))
			return 0
			;;
		-u | --unit)
			COMPREPLY=($(compgen -W "$(_rcatrace_units)" -- "$cur"))
			return 0
			;;
		--since | --until)
			COMPREPLY=($(compgen -W '30m 2h 1d 7d' -- "$cur"))
			return 0
			;;
		-n | --top)
			return 0
			;;
		esac
		case $cmd in
		timeline | history)
			COMPREPLY=($(compgen -W '--json --unit --since --until --state --help' -- "$cur"))
			;;
		report)
			COMPREPLY=($(compgen -W '--html --unit --top --since --until --state --help' -- "$cur"))
			;;
		esac
		;;
	esac
	return 0
}
complete -F _rcatrace rcatrace
