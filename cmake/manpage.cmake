# cmake -DEXE=graybench -DOUT=graybench.1 -DVERSION=x.y.z -P manpage.cmake
# Wraps `graybench --help` in roff. If the binary cannot run here (no MPI singleton on a login
# node), the page still installs and says where the options are described.
set(ENV{OMPI_ALLOW_RUN_AS_ROOT} 1)
set(ENV{OMPI_ALLOW_RUN_AS_ROOT_CONFIRM} 1)
execute_process(COMMAND ${EXE} --help OUTPUT_VARIABLE help RESULT_VARIABLE rc ERROR_QUIET
                TIMEOUT 60)
if(NOT rc EQUAL 0)
  set(help "Run `graybench --help` for the options.\n")
endif()
string(REPLACE "\\" "\\\\" help "${help}")
# \& before every line keeps a leading "." or "'" from being read as a roff request.
string(REPLACE "\n" "\n\\&" help "\\&${help}")
string(REGEX REPLACE "\\\\&$" "" help "${help}")
string(TIMESTAMP today "%Y-%m-%d" UTC)
file(WRITE ${OUT} ".TH GRAYBENCH 1 \"${today}\" \"graybench ${VERSION}\" \"User Commands\"
.SH NAME
graybench \\- MPI batch grayscale conversion benchmark
.SH SYNOPSIS
.B mpirun
.RB [ -np
.IR N ]
.B graybench
.B --input
.I PATH
.RI [ options ]
.br
.B srun --mpi=pmix graybench
.RI [ options ]
.SH DESCRIPTION
Converts images to grayscale (Pillow's convert(\"L\")) with a chosen intra-node strategy and
writes per-image and per-rank timings, checksums and run metadata to an HDF5 results file
(schema: share/graybench/docs/schema.md). Exit status: 0 ok, 1 fatal error, 2 usage error,
3 some images failed, 4 interrupted (the run in progress is saved as incomplete).
.SH OPTIONS
.nf
${help}.fi
.SH SEE ALSO
graybench-gen(1), graybench-merge, graybench-sweep, share/graybench/jobs/README.md
")
