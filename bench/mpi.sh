#!/bin/sh
# MPI scaling of `clsoftmax train` (BENCHMARKS.md, "MPI"): 1, 2 and 4 ranks
# on Fashion-MNIST (60000 x 784, 10 classes, float32), each solver setting
# once per rank count. Prints the wall time of the command and the training
# time of its summary line (csm_train alone: no reading, no start-up).
# Run from the top of a build with MPI: sh bench/mpi.sh [IMAGES.idx3-ubyte.gz]
B=${CLSOFTMAX:-./src/cli/clsoftmax}
D=${1:-/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz}
MPIRUN="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && MPIRUN="$MPIRUN --allow-run-as-root"
export OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1
T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
for args in "--solver lbfgs --max-iter 100 --tol 0" \
    "--solver sgd --batch-size 256 --epochs 5 --tol 0" \
    "--solver sgd --batch-size 4096 --epochs 5 --tol 0"; do
    for np in 1 2 4; do
        s=$(date +%s.%N)
        if [ "$np" = 1 ]; then
            "$B" train $args "$D" "$T/m.st" 2>"$T/err"
        else
            $MPIRUN -np "$np" "$B" train $args "$D" "$T/m.st" 2>"$T/err"
        fi
        e=$(date +%s.%N)
        train=$(grep -o ' in [0-9.]*s:' "$T/err" | head -n 1 | tr -d ' insx:')
        obj=$(grep -o 'objective [0-9.]*' "$T/err" | head -n 1)
        echo "np=$np $args: wall $(echo "$e - $s" | bc) s, training ${train} s, $obj"
    done
done
